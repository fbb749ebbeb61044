"""Events: create, read, edit, delete, RSVP, attendees, nearby, the organiser's view."""

from flask.views import MethodView

from geo.coords import LatLon
from service import clock, ratelimit
from service.auth.tokens import current_user, current_user_id
from service.common import cursor
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.common.geojson import documented, page_answer
from service.common.paging import Offset
from service.common.schemas import MAX_ID
from service.database import db
from service.events import nearby, service
from service.events.schemas import (
    AttendeeQuerySchema,
    AttendeesSchema,
    ConversionSchema,
    EventCreateSchema,
    EventPatchSchema,
    EventSchema,
    NearbyEventSchema,
    NearbyEventsPageSchema,
    NearbyEventsQuerySchema,
    RsvpSchema,
)
from service.idempotency import idempotent

blp = Blueprint("events", __name__, url_prefix="/api/v1/events", description="Events")
EVENT = f"/<int(max={MAX_ID}):event_id>"


@blp.route("")
class Events(MethodView):
    @authenticated(blp)
    @idempotent
    @blp.arguments(EventCreateSchema)
    @blp.response(201, EventSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such venue")
    def post(self, payload):
        """Create an event at a venue (I organise it)"""
        return service.create(db_session=db.session, user=current_user(), **payload)


@blp.route("/nearby")
class NearbyEvents(MethodView):
    @authenticated(blp)
    @blp.arguments(NearbyEventsQuerySchema(), location="query")  # built once, not per request
    @blp.response(200, NearbyEventsPageSchema)
    @blp.doc(responses=documented(NearbyEventsPageSchema, NearbyEventSchema))
    @ratelimit.nearby
    def get(self, args):
        """Events near a position overlapping a time window, nearest first"""
        window = service.default_window(args.get("from_"), args.get("to"), clock.now())
        page = nearby.nearby(
            db_session=db.reader,
            viewer_id=current_user_id(),
            position=LatLon(args["lat"], args["lon"]),
            radius_m=args["radius_m"],
            window=window,
            page=Offset.of(args),
        )
        return page_answer(page, NearbyEventSchema, NearbyEventsPageSchema)


@blp.route(EVENT)
class EventById(MethodView):
    @authenticated(blp)
    @blp.response(200, EventSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such event")
    def get(self, event_id):
        """An event"""
        return service.get(db_session=db.session, event_id=event_id)

    @authenticated(blp)
    @blp.arguments(EventPatchSchema, required=False)
    @blp.response(200, EventSchema)
    @blp.alt_response(403, response="DEFAULT_ERROR", description="Not the organiser")
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such event")
    def patch(self, changes, event_id):
        """Change my event"""
        event = service.update(
            db_session=db.session, user=current_user(), event_id=event_id, changes=changes
        )
        db.session.commit()
        return event

    @authenticated(blp)
    @blp.response(204)
    @blp.alt_response(403, response="DEFAULT_ERROR", description="Not the organiser")
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such event")
    def delete(self, event_id):
        """Delete my event"""
        service.remove(db_session=db.session, user=current_user(), event_id=event_id)
        db.session.commit()


@blp.route(f"{EVENT}/rsvp")
class EventRsvp(MethodView):
    @authenticated(blp)
    @idempotent
    @blp.arguments(RsvpSchema)
    @blp.response(200, RsvpSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such event")
    def post(self, payload, event_id):
        """Answer an event: going, maybe or not_going (changeable)"""
        return service.rsvp(
            db_session=db.session,
            user_id=current_user_id(),
            event_id=event_id,
            status=payload["status"],
            now=clock.now(),
        )


@blp.route(f"{EVENT}/attendees")
class EventAttendees(MethodView):
    @authenticated(blp)
    @blp.arguments(AttendeeQuerySchema, location="query")
    @blp.response(200, AttendeesSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such event")
    def get(self, args, event_id):
        """Who is coming: my contacts by name (paged), everyone else only as counts"""
        after = args["cursor"]
        page = service.attendees(
            db_session=db.session,
            viewer_id=current_user_id(),
            event_id=event_id,
            limit=args["limit"],
            after=after,
        )
        next_key = page.pop("next_key")
        return {**page, "next_cursor": cursor.encode(*next_key) if next_key else None}


@blp.route(f"{EVENT}/conversion")
class EventConversion(MethodView):
    @authenticated(blp)
    @blp.response(200, ConversionSchema)
    @blp.alt_response(403, response="DEFAULT_ERROR", description="Not the organiser")
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such event")
    def get(self, event_id):
        """For the organiser: RSVPs, check-ins, RSVP'd-but-absent, new in-person pairs"""
        return service.conversion(db_session=db.session, user=current_user(), event_id=event_id)
