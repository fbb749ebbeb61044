"""Calendars: an event as iCalendar, and a secret feed URL of the events I am going to."""

from flask.views import MethodView

from service import clock
from service.auth.tokens import current_user_id
from service.calendars import links, service, tokens
from service.calendars.schemas import CalendarFeedSchema, FeedQuerySchema
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.common.schemas import MAX_ID
from service.database import db

blp = Blueprint("calendars", __name__, url_prefix="/api/v1", description="Calendars")
ICS = {"text/calendar": {"schema": {"type": "string", "format": "binary"}}}
EVENT_ANSWER = {"200": {"description": "An iCalendar (RFC 5545) VCALENDAR", "content": ICS}}
FEED_ANSWER = {
    "200": {
        "description": "An iCalendar (RFC 5545) feed of the events I am going to that end "
        "at most 30 days ago (at most 300, the earliest first); an event deleted since "
        "is listed with STATUS:CANCELLED. No bearer token: the URL's secret is the key.",
        "content": ICS,
    }
}
NO_STORE = {"Cache-Control": "no-store"}


@blp.route(f"/events/<int(max={MAX_ID}):event_id>.ics")
class EventCalendar(MethodView):
    @authenticated(blp)
    @blp.doc(responses=EVENT_ANSWER)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such event")
    def get(self, event_id):
        """An event as iCalendar, to add to a calendar (same visibility as the event)"""
        body = service.event_ics(
            db_session=db.session,
            event_id=event_id,
            link=links.event_url,
            domain=links.uid_domain(),
        )
        return links.ics_response(body, f"event-{event_id}.ics", "private, no-cache")


@blp.route("/me/events.ics")
class MyEventsFeed(MethodView):
    @blp.arguments(FeedQuerySchema, location="query")
    @blp.doc(responses=FEED_ANSWER)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="Unknown or revoked token")
    def get(self, args):
        """The events I am going to, as a calendar feed (authorised by its secret URL)"""
        body = service.feed(
            db_session=db.session,
            token=args["token"],
            now=clock.now(),
            link=links.event_url,
            domain=links.uid_domain(),
        )
        return links.ics_response(body, "irl-events.ics", "private, max-age=300")


@blp.route("/me/calendar-token")
class CalendarToken(MethodView):
    @authenticated(blp)
    @blp.response(201, CalendarFeedSchema)
    def post(self):
        """Create my calendar feed's secret URL, or rotate it (shown only this once)"""
        token = tokens.issue(db_session=db.session, user_id=current_user_id())
        db.session.commit()
        return links.feed_urls(token), NO_STORE

    @authenticated(blp)
    @blp.response(204)
    def delete(self):
        """Revoke my calendar feed's secret URL (it answers 404 from now on)"""
        tokens.revoke(db_session=db.session, user_id=current_user_id())
        db.session.commit()
