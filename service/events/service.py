"""Event use cases: create, read, edit, delete, RSVP, attendees, nearby, conversion."""

from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import BigInteger, DateTime, Float, Integer, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geo import sql as geosql
from geo.coords import LatLon
from geo.events import overlaps
from service.admin import audit
from service.common.nearest import nearest_rows
from service.errors import DomainError, Forbidden, NotFound
from service.events import conversion as converted
from service.models import Checkin, Event, Meeting, Relationship, Rsvp, User, Venue
from service.presence import visibility
from service.venues import service as venues

DEFAULT_WINDOW = timedelta(days=7)
MAX_WINDOW = timedelta(days=90)


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
        "organiser": {"handle": organiser.handle, "display_name": organiser.display_name},
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
    if for_update:
        query = query.with_for_update(of=Event)
    row = db_session.execute(query).first()
    if row is None:
        raise NotFound("No such event.")
    return row


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
    for key, value in changes.items():
        setattr(event, key, value)
    db_session.flush()
    return get(db_session=db_session, event_id=event_id)


def remove(*, db_session: Session, user: User, event_id: int) -> None:
    """Delete my event (check-ins and meetings keep existing without it)."""
    event = _own(db_session, user, event_id, "event.delete")
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


def attendees(*, db_session: Session, viewer_id: int, event_id: int) -> dict:
    """My contacts' answers by name (unless they share no location); others as counts."""
    _load(db_session, event_id)
    named = db_session.execute(
        select(User.handle, User.display_name, Rsvp.status)
        .join(Rsvp, Rsvp.user_id == User.id)
        .join(Relationship, visibility.mutual(viewer_id, User.id))
        .where(Rsvp.event_id == event_id, visibility.sharing(User))
        .order_by(Rsvp.status, func.lower(User.handle))
    ).all()
    total = _counts(
        db_session.execute(
            select(Rsvp.status, func.count()).where(Rsvp.event_id == event_id).group_by(Rsvp.status)
        ).all()
    )
    others = dict(total)
    for row in named:
        others[row.status] -= 1
    return {
        "contacts": [
            {"user": {"handle": r.handle, "display_name": r.display_name}, "status": r.status}
            for r in named
        ],
        "others": others,
        "total": total,
    }


@lru_cache(maxsize=2)
def _nearby_statement(knn: bool):
    """The nearest events picked by id first (KNN on the (location, period) GiST index,
    bounded by ST_DWithin and the window; exact distance when ``knn`` is False), and only
    those few joined to their venue and organiser. Built once per ``knn`` with bound
    parameters (lat, lon, r, start, end, limit, offset, viewer): building it cost ~1 ms
    a call."""
    here = geosql.point_of(bindparam("lat", type_=Float), bindparam("lon", type_=Float))
    window = DateTime(timezone=True)
    nearest = (
        select(Event.id, geosql.distance_m(Event.location, here).label("distance_m"))
        .where(
            geosql.within_m(Event.location, here, bindparam("r", type_=Float)),
            overlaps(
                Event.period, bindparam("start", type_=window), bindparam("end", type_=window)
            ),
        )
        .order_by(geosql.nearest_first(Event.location, here, knn))
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .subquery()
    )
    contacts = (
        select(Relationship.other_id)
        .join(User, User.id == Relationship.other_id)
        .where(visibility.mutual(bindparam("viewer", type_=BigInteger)), visibility.sharing(User))
    )
    going = (
        select(func.count())
        .where(Rsvp.event_id == Event.id, Rsvp.status == "going", Rsvp.user_id.in_(contacts))
        .scalar_subquery()
    )
    return (
        select(
            Event.id,
            Event.title,
            Event.description,
            Event.tags,
            Event.starts_at,
            Event.ends_at,
            geosql.latitude(Event.location).label("lat"),
            geosql.longitude(Event.location).label("lon"),
            Venue.id.label("venue_id"),
            *venues.VIEW_COLUMNS,
            User.handle,
            User.display_name,
            nearest.c.distance_m,
            going.label("contacts_going"),
        )
        .join(nearest, nearest.c.id == Event.id)
        .join(Venue, Venue.id == Event.venue_id)
        .join(User, User.id == Event.organiser_id)
    )


def nearby(
    *,
    db_session: Session,
    viewer_id: int,
    position: LatLon,
    radius_m: float,
    start: datetime,
    end: datetime,
    limit: int,
    offset: int,
) -> list[dict]:
    """Events overlapping [start, end) within the radius, nearest first, each with how many
    of my contacts are going."""
    params = {
        "lat": position.lat,
        "lon": position.lon,
        "r": radius_m,
        "start": start,
        "end": end,
        "limit": limit,
        "offset": offset,
        "viewer": viewer_id,
    }
    rows = nearest_rows(db_session, _nearby_statement, params)
    items = [
        {
            "id": r.id,
            "title": r.title,
            "description": r.description,
            "tags": r.tags,
            "starts_at": r.starts_at,
            "ends_at": r.ends_at,
            "location": {"lat": r.lat, "lon": r.lon},
            "venue": venues.view(r, r.venue_id, r.lat, r.lon),
            "organiser": {"handle": r.handle, "display_name": r.display_name},
            "distance_m": round(r.distance_m, 1),
            "contacts_going": r.contacts_going,
        }
        for r in rows
    ]
    return sorted(items, key=lambda item: (item["distance_m"], item["id"]))


def conversion(*, db_session: Session, user: User, event_id: int) -> dict:
    """The organiser's view: RSVPs against check-ins and the new in-person pairs, no
    figure (nor a difference of two) describing fewer than five people."""
    _own(db_session, user, event_id, "event.conversion")
    rsvps = {"going": set(), "maybe": set(), "not_going": set()}
    for status, person in db_session.execute(
        select(Rsvp.status, Rsvp.user_id).where(Rsvp.event_id == event_id)
    ):
        rsvps[status].add(person)
    came = set(
        db_session.scalars(select(Checkin.user_id).distinct().where(Checkin.event_id == event_id))
    )
    met = {True: set(), False: set()}
    meetings = {True: set(), False: set()}
    for meeting_id, person, first in db_session.execute(
        select(Meeting.id, Meeting.user_id, Meeting.first_time).where(Meeting.event_id == event_id)
    ):
        met[first].add(person)
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
