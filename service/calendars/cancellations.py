"""Deleted events kept for the feeds of the people who were going (as STATUS:CANCELLED).

Why a copy rather than a soft ``cancelled_at`` on the event: DELETE /events/{id} removes
the row and lets check-ins and meetings live on without it; every other reader of events
(nearby, RSVPs, attendance, badges, the organiser's figures) would otherwise have to learn
to skip cancelled ones. A calendar only needs what it showed, so that is what is kept, one
row per person who was going, until the event ends outside the feed's window.
"""

from datetime import datetime, timedelta

from sqlalchemy import delete, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geo import sql as geosql
from service.models import CalendarCancellation, Event, Rsvp, Venue

FEED_WINDOW = timedelta(days=30)  # feeds show the events that ended up to 30 days ago
COLUMNS = (
    "user_id",
    "event_id",
    "title",
    "starts_at",
    "ends_at",
    "timezone",
    "venue_name",
    "venue_address",
    "lat",
    "lon",
    "sequence",
    "cancelled_at",
)


def keep(*, db_session: Session, event_id: int, now: datetime) -> None:
    """Before the event is deleted: keep it as it stands, one SEQUENCE on, for everyone
    going to it, and forget the cancellations no feed shows any more."""
    since = now - FEED_WINDOW
    _record(db_session, event_id, now, since)
    db_session.execute(delete(CalendarCancellation).where(CalendarCancellation.ends_at < since))


def _record(db_session: Session, event_id: int, now: datetime, since: datetime) -> None:
    """Copy the event for everyone going (when it ends after ``since``: older ones are
    out of every feed already)."""
    going = (
        select(
            Rsvp.user_id,
            Event.id,
            Event.title,
            Event.starts_at,
            Event.ends_at,
            Venue.timezone,
            Venue.name,
            Venue.address,
            geosql.latitude(Event.location),
            geosql.longitude(Event.location),
            Event.sequence + 1,
            literal(now),
        )
        .join(Event, Event.id == Rsvp.event_id)
        .join(Venue, Venue.id == Event.venue_id)
        .where(Rsvp.event_id == event_id, Rsvp.status == "going", Event.ends_at >= since)
    )
    statement = insert(CalendarCancellation).from_select(COLUMNS, going)
    db_session.execute(statement.on_conflict_do_nothing())
