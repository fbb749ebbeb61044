"""Calendar use cases: one event as iCalendar, my feed, and the feed's secret URL."""

from datetime import datetime

from sqlalchemy.orm import Session

from service.calendars import entries, ics, tokens
from service.calendars.cancellations import FEED_WINDOW
from service.events import service as events


def since(now: datetime) -> datetime:
    """The feed's window starts here: events that ended earlier are left out."""
    return now - FEED_WINDOW


def event_ics(*, db_session: Session, event_id: int, link: entries.Link, domain: str) -> bytes:
    """One event as iCalendar, for whoever may see it (404 as GET /events/{id})."""
    events.visible(db_session=db_session, event_id=event_id)
    entry = entries.of_event(db_session=db_session, event_id=event_id, link=link)
    return ics.render([entry], name=entry.title, domain=domain)


def feed(
    *, db_session: Session, token: str, now: datetime, link: entries.Link, domain: str
) -> bytes:
    """The events the token's owner is going to (and those since cancelled) as a feed."""
    user_id = tokens.owner(db_session=db_session, token=token)
    going = entries.going(db_session=db_session, user_id=user_id, since=since(now), link=link)
    return ics.render(going, name="IRL: events I'm going to", domain=domain)
