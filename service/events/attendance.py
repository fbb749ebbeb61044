"""Does a check-in count for the event it names? (at the event's venue or within 75 m,
and within its time ± 1 hour; otherwise the check-in stands and the event is ignored)."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo import sql as geosql
from geo.events import on_time
from geo.meetings import MEETING_DISTANCE_M
from service.models import Event, Venue


def judge(
    *, db_session: Session, event_id: int, venue: Venue, at: datetime
) -> tuple[Event | None, dict]:
    """``(event if it counts, what to tell the person)``."""
    row = db_session.execute(
        select(Event, geosql.distance_m(Event.location, Venue.location).label("distance_m"))
        .join(Venue, Venue.id == venue.id)
        .where(Event.id == event_id)
    ).first()
    if row is None:
        return None, {
            "event_id": event_id,
            "accepted": False,
            "reason": "No such event; the check-in stands without it.",
        }
    event, distance = row.Event, row.distance_m
    if event.venue_id != venue.id and distance > MEETING_DISTANCE_M:
        return None, {
            "event_id": event_id,
            "accepted": False,
            "reason": f"The event is {distance:.0f} m from this venue; event "
            f"check-ins must be at its venue or within "
            f"{MEETING_DISTANCE_M:.0f} m.",
        }
    if not on_time(event.starts_at, event.ends_at, at):
        return None, {
            "event_id": event_id,
            "accepted": False,
            "reason": "The event is not on now: event check-ins count from an "
            "hour before it starts to an hour after it ends.",
        }
    return event, {"event_id": event_id, "accepted": True, "reason": None}
