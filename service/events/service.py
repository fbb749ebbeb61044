"""Event use cases: create, read, edit, delete, RSVP, attendees, conversion (nearby:
``service.events.nearby``)."""

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geo import sql as geosql
from geo.coords import LatLon
from service import clock
from service.admin import audit
from service.calendars import cancellations
from service.common.people import person
from service.errors import DomainError, Forbidden, NotFound
from service.events import conversion as converted
from service.events.schemas import MAX_DURATION
from service.identities import faces
from service.models import Checkin, Event, Meeting, Rsvp, User, Venue
from service.presence import visibility
from service.venues import service as venues

DEFAULT_WINDOW = timedelta(days=7)
MAX_WINDOW = timedelta(days=90)
CALENDAR_FIELDS = ("title", "description", "starts_at", "ends_at")  # what an .ics shows


def _view(event: Event, venue: Venue, organiser: User, position: LatLon) -> dict:
    return {
        "id": event.id,
        "title": event.title,
        "description": event.description,
        "tags": event.tags,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "venue": venues.to_dict(venue, position),
        "location": position.as_dict(),
        "organiser": person(organiser.handle, organiser.display_name),
    }


def _load(db_session: Session, event_id: int, for_update: bool = False):
    query = (
        select(
            Event,
            Venue,
            User,
            geosql.latitude(Event.location).label("lat"),
            geosql.longitude(Event.location).label("lon"),
        )
        .join(Venue, Venue.id == Event.venue_id)
        .join(User, User.id == Event.organiser_id)
        .where(Event.id == event_id)
    )
    if for_update:  # the event's row alone: a lock may not span the organiser's shard
        db_session.execute(select(Event.id).where(Event.id == event_id).with_for_update())
    row = db_session.execute(query).first()
    if row is None:
        raise NotFound("No such event.")
    return row


def visible(*, db_session: Session, event_id: int) -> None:
    """404 unless the caller may see the event (the rule of ``get``)."""
    _load(db_session, event_id)


def get(*, db_session: Session, event_id: int) -> dict:
    """An event; 404 if unknown."""
    row = _load(db_session, event_id)
    return _view(row.Event, row.Venue, row.User, LatLon(row.lat, row.lon))


def create(*, db_session: Session, user: User, venue_id: int, **fields) -> dict:
    """Create an event at a live venue; I am its organiser."""
    venue = venues.get(db_session=db_session, venue_id=venue_id)
    tags = sorted({tag.strip().lower() for tag in fields.pop("tags") if tag.strip()})
    event = Event(
        venue_id=venue.id, organiser_id=user.id, location=venue.location, tags=tags, **fields
    )
    db_session.add(event)
    db_session.flush()
    return get(db_session=db_session, event_id=event.id)


def _own(db_session: Session, user: User, event_id: int, action: str = "event.update") -> Event:
    """The event if I organise it, or (audited) as an admin; 403 otherwise."""
    row = _load(db_session, event_id, for_update=True)
    if row.Event.organiser_id == user.id:
        return row.Event
    if not user.is_admin:
        raise Forbidden("Only the event's organiser can change it.")
    audit.record(
        db_session, admin_id=user.id, action=action, target_type="event", target_id=event_id
    )
    return row.Event


def update(*, db_session: Session, user: User, event_id: int, changes: dict) -> dict:
    """Edit my event; the times must still make sense together."""
    event = _own(db_session, user, event_id)
    if "tags" in changes:
        changes["tags"] = sorted({t.strip().lower() for t in changes["tags"] if t.strip()})
    starts = changes.get("starts_at", event.starts_at)
    ends = changes.get("ends_at", event.ends_at)
    if starts >= ends:
        raise DomainError(
            "ends_at must be after starts_at.",
            errors={"json": {"ends_at": ["Must be after starts_at."]}},
        )
    if ends - starts > MAX_DURATION:
        raise DomainError(
            "An event lasts at most 31 days; move starts_at and ends_at together.",
            errors={"json": {"ends_at": ["An event lasts at most 31 days."]}},
        )
    if any(getattr(event, key) != changes[key] for key in CALENDAR_FIELDS if key in changes):
        event.sequence += 1  # calendars replace their copy only when SEQUENCE grows
        event.updated_at = clock.now()
    for key, value in changes.items():
        setattr(event, key, value)
    db_session.flush()
    return get(db_session=db_session, event_id=event_id)


def remove(*, db_session: Session, user: User, event_id: int) -> None:
    """Delete my event (check-ins and meetings keep existing without it); the calendar
    feeds of those who were going show it cancelled (``calendars.cancellations``)."""
    event = _own(db_session, user, event_id, "event.delete")
    cancellations.keep(db_session=db_session, event_id=event.id, now=clock.now())
    db_session.execute(delete(Event).where(Event.id == event.id))


def rsvp(*, db_session: Session, user_id: int, event_id: int, status: str, now: datetime) -> dict:
    """Answer (or change my answer to) an event."""
    _load(db_session, event_id)
    statement = insert(Rsvp).values(
        event_id=event_id, user_id=user_id, status=status, updated_at=now
    )
    db_session.execute(
        statement.on_conflict_do_update(
            index_elements=["event_id", "user_id"],
            set_={"status": statement.excluded.status, "updated_at": now},
        )
    )
    return {"status": status}


def _counts(rows) -> dict:
    counts = {"going": 0, "maybe": 0, "not_going": 0}
    for status, number in rows:
        counts[status] = number
    return counts


def attendees(
    *, db_session: Session, viewer_id: int, event_id: int, limit: int, after: tuple | None
) -> dict:
    """My contacts' answers by name (unless they share no location), a page of them by
    (status, handle) after the ``after`` key; everyone else as counts. My contacts are
    read first; their answers then by ``user_id`` (on Citus, on their shards)."""
    _load(db_session, event_id)
    order = (Rsvp.status, func.lower(User.handle), User.id)
    named_total, page = _counts([]), []
    contact_ids = visibility.contact_ids(db_session, viewer_id)
    if contact_ids:
        query = (
            select(User.handle, User.display_name, Rsvp.status, order[1].label("key"), User.id)
            .join(Rsvp, Rsvp.user_id == User.id)
            .where(
                visibility.among(User.id, contact_ids),
                Rsvp.event_id == event_id,
                visibility.sharing(User),
            )
        )
        everyone = query.subquery()
        named_total = _counts(
            db_session.execute(
                select(everyone.c.status, func.count()).group_by(everyone.c.status)
            ).all()
        )
        if after is not None:
            query = query.where(tuple_(*order) > tuple_(*after))
        page = db_session.execute(query.order_by(*order).limit(limit + 1)).all()
    total = _counts(
        db_session.execute(
            select(Rsvp.status, func.count()).where(Rsvp.event_id == event_id).group_by(Rsvp.status)
        ).all()
    )
    others = {status: total[status] - named_total[status] for status in total}
    last = page[limit - 1] if len(page) > limit else None
    contacts = [
        {"user": person(r.handle, r.display_name), "status": r.status} for r in page[:limit]
    ]
    faces.show(
        db_session,
        viewer_id=viewer_id,
        people=[(r.id, shown["user"]) for r, shown in zip(page, contacts, strict=False)],
    )
    return {
        "contacts": contacts,
        "others": others,
        "total": total,
        "next_key": None if last is None else (last.status, last.key, last.id),
    }


def conversion(*, db_session: Session, user: User, event_id: int) -> dict:
    """The organiser's view: RSVPs against check-ins and the new in-person pairs, no
    figure (nor a difference of two) describing fewer than five people."""
    _own(db_session, user, event_id, "event.conversion")
    rsvps = {"going": set(), "maybe": set(), "not_going": set()}
    for status, who in db_session.execute(
        select(Rsvp.status, Rsvp.user_id).where(Rsvp.event_id == event_id)
    ):
        rsvps[status].add(who)
    came = set(
        db_session.scalars(select(Checkin.user_id).distinct().where(Checkin.event_id == event_id))
    )
    met = {True: set(), False: set()}
    meetings = {True: set(), False: set()}
    for meeting_id, who, first in db_session.execute(
        select(Meeting.id, Meeting.user_id, Meeting.first_time).where(Meeting.event_id == event_id)
    ):
        met[first].add(who)
        meetings[first].add(meeting_id)
    people = converted.People(
        rsvps=rsvps,
        came=came,
        met=met[True] | met[False],
        met_first=met[True],
        met_again=met[False],
    )
    total = len(meetings[True]) + len(meetings[False])
    return converted.view(people, meetings=total, new_pairs=len(meetings[True]))


def default_window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """Fill a missing window edge: from now, for 7 days."""
    start = start or (end - DEFAULT_WINDOW if end else now)
    end = end or start + DEFAULT_WINDOW
    if start > end:
        raise DomainError("from must not be after to.", errors={"query": {"from": ["After to."]}})
    if end - start > MAX_WINDOW:
        raise DomainError(
            "The window is at most 90 days.", errors={"query": {"to": ["Window too long."]}}
        )
    return start, end
