"""Feed, nearby contacts and who is here — for contacts only."""

from flask.views import MethodView

from geo.coords import LatLon
from service import clock, ratelimit
from service.auth.tokens import current_user_id
from service.common import cursor
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.common.geojson import documented, page_answer
from service.common.paging import sliced
from service.common.schemas import MAX_ID, PageQuerySchema
from service.database import db
from service.presence import service
from service.presence.schemas import (
    FeedPageSchema,
    FeedQuerySchema,
    HerePageSchema,
    NearbyContactSchema,
    NearbyContactsPageSchema,
    NearbyContactsQuerySchema,
)
from service.venues import service as venues

blp = Blueprint("presence", __name__, url_prefix="/api/v1", description="Contacts nearby")


@blp.route("/feed")
class Feed(MethodView):
    @authenticated(blp)
    @blp.arguments(FeedQuerySchema, location="query")
    @blp.response(200, FeedPageSchema)
    def get(self, args):
        """Recent check-ins of my contacts (last 7 days), newest first"""
        after = args["cursor"]
        items, last = service.feed(
            db_session=db.reader,
            viewer_id=current_user_id(),
            now=clock.now(),
            limit=args["limit"],
            after=after,
        )
        next_cursor = cursor.encode(last[0].isoformat(), last[1]) if last else None
        return {"items": items, "next_cursor": next_cursor}


@blp.route("/nearby/contacts")
class NearbyContacts(MethodView):
    @authenticated(blp)
    @blp.arguments(NearbyContactsQuerySchema(), location="query")  # built once, not per request
    @blp.response(200, NearbyContactsPageSchema)
    @blp.doc(responses=documented(NearbyContactsPageSchema, NearbyContactSchema))
    @ratelimit.nearby
    def get(self, args):
        """My contacts seen in the last 3 hours near a position, nearest first"""
        items = service.nearby_contacts(
            db_session=db.reader,
            viewer_id=current_user_id(),
            here_at=LatLon(args["lat"], args["lon"]),
            radius_m=args["radius_m"],
            now=clock.now(),
        )
        return page_answer(sliced(items, args), NearbyContactSchema, NearbyContactsPageSchema)


@blp.route(f"/venues/<int(max={MAX_ID}):venue_id>/here")
class Here(MethodView):
    @blp.doc(operationId="listContactsHere")
    @authenticated(blp)
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, HerePageSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such venue")
    def get(self, args, venue_id):
        """My contacts checked in at this venue in the last 3 hours"""
        venues.get(db_session=db.session, venue_id=venue_id)
        items = service.here(
            db_session=db.session, viewer_id=current_user_id(), venue_id=venue_id, now=clock.now()
        )
        return sliced(items, args)
