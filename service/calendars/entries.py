"""The calendar entries of one event, and of the events I am going to."""

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo import sql as geosql
from service.calendars.ics import Entry
from service.models import CalendarCancellation, Event, Rsvp, Venue

FEED_LIMIT = 300  # entries in a feed at most, the earliest first
Link = Callable[[int], str]  # event id -> the URL an entry links to

_LIVE = (
    Event.id,
    Event.title,
    Event.description,
    Event.starts_at,
    Event.ends_at,
    Venue.timezone,
    Venue.name.label("venue_name"),
    Venue.address.label("venue_address"),
    geosql.latitude(Event.location).label("lat"),
    geosql.longitude(Event.location).label("lon"),
    Event.sequence,
    func.coalesce(Event.updated_at, Event.created_at).label("stamp"),
)


def _live(row, link: Link) -> Entry:
    return Entry(
        event_id=row.id,
        title=row.title,
        description=row.description,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        timezone=row.timezone,
        venue_name=row.venue_name,
        venue_address=row.venue_address,
        lat=row.lat,
        lon=row.lon,
        sequence=row.sequence,
        stamp=row.stamp,
        url=link(row.id),
    )


def _cancelled(row: CalendarCancellation, link: Link) -> Entry:
    return Entry(
        event_id=row.event_id,
        title=row.title,
        description=None,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        timezone=row.timezone,
        venue_name=row.venue_name,
        venue_address=row.venue_address,
        lat=row.lat,
        lon=row.lon,
        sequence=row.sequence,
        stamp=row.cancelled_at,
        url=link(row.event_id),
        cancelled=True,
    )


def of_event(*, db_session: Session, event_id: int, link: Link) -> Entry:
    """The entry of an event (its visibility already checked)."""
    row = db_session.execute(
        select(*_LIVE).join(Venue, Venue.id == Event.venue_id).where(Event.id == event_id)
    ).one()
    return _live(row, link)


def going(*, db_session: Session, user_id: int, since: datetime, link: Link) -> list[Entry]:
    """The events I am going to that end after ``since``, and those of them since
    deleted, the earliest first, at most ``FEED_LIMIT``."""
    live = db_session.execute(
        select(*_LIVE)
        .join(Rsvp, Rsvp.event_id == Event.id)
        .join(Venue, Venue.id == Event.venue_id)
        .where(Rsvp.user_id == user_id, Rsvp.status == "going", Event.ends_at >= since)
        .order_by(Event.starts_at, Event.id)
        .limit(FEED_LIMIT)
    ).all()
    cancelled = db_session.scalars(
        select(CalendarCancellation)
        .where(CalendarCancellation.user_id == user_id, CalendarCancellation.ends_at >= since)
        .order_by(CalendarCancellation.starts_at, CalendarCancellation.event_id)
        .limit(FEED_LIMIT)
    ).all()
    entries = [_live(row, link) for row in live] + [_cancelled(row, link) for row in cancelled]
    entries.sort(key=lambda entry: (entry.starts_at, entry.event_id))
    return entries[:FEED_LIMIT]
