"""What the set-based recompute reads, in a few bulk queries: the eligible check-ins in
arrival order, the venues' zones and cities, the recorded meetings, the events'
organisers and the venues' staff."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import BigInteger, Date, any_, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from geo.cities import cities_of
from geo.coords import LatLon
from geo.sql import latitude, longitude
from service.models import Checkin, Event, Meeting, Venue, VenueStaff


@dataclass(frozen=True, slots=True)
class Recorded:
    """A meeting row as its later-arriving side replays it."""

    id: int
    other_id: int
    other_checkin_id: int
    met_at: datetime
    event_id: int | None


class Arrival(NamedTuple):
    """An eligible check-in as the replay reads it (a tuple: read 30 times each)."""

    user_id: int
    id: int
    venue_id: int
    effective_at: datetime
    created_at: datetime
    local_day: date
    event_id: int | None
    shared: bool


@dataclass
class History:
    """Everything the replay needs, keyed for it."""

    arrivals: list[Arrival]  # eligible check-ins in arrival order (created_at, id)
    zones: dict[int, str]
    cities: dict[int, str]
    new_cities: dict[int, str]  # looked up now, to be kept on the venues
    found_at: dict[tuple[int, int], list[Recorded]]  # (user, check-in) -> meetings, by id
    sides: dict[int, list[tuple[int, int]]]  # meeting -> [(user, check-in)]
    met: dict[int, list[tuple[datetime, int, int | None]]]  # user -> (created_at, other, event)
    organisers: dict[int, int]
    staff: dict[tuple[int, int], date | None] = field(default_factory=dict)  # None: every day


def _arrivals(db_session: Session) -> list[Arrival]:
    rows = Checkin.__table__.c
    found = db_session.execute(
        select(*[rows[name] for name in Arrival._fields])
        .where(rows.eligible)
        .order_by(rows.created_at, rows.id)
    )
    return [Arrival(*row) for row in found]


def _places(db_session: Session) -> tuple[dict, dict, dict]:
    """Zones and cities of the venues with eligible check-ins; cities missing are looked
    up (as ``award.venue_city`` does)."""
    visited = select(Checkin.venue_id).where(Checkin.eligible).distinct()
    rows = db_session.execute(
        select(Venue.id, Venue.timezone, Venue.city)
        .add_columns(latitude(Venue.location), longitude(Venue.location))
        .where(Venue.id.in_(visited))
    ).all()
    zones = {row.id: row.timezone for row in rows}
    cities = {row.id: row.city for row in rows if row.city is not None}
    missing = [row for row in rows if row.city is None]
    found = cities_of([LatLon(row[3], row[4]) for row in missing])
    new = {row.id: city for row, city in zip(missing, found, strict=True)}
    return zones, {**cities, **new}, new


def _meetings(db_session: Session) -> tuple[dict, dict, dict]:
    """Each meeting row with whether its other side arrived first (then this side found
    it, as ``recompute._recorded_meetings``), both sides of each meeting, and each
    person's meetings as they were created."""
    own = Checkin.__table__.c
    rows = db_session.execute(
        select(Meeting, own.created_at)
        .join(Checkin.__table__, (own.user_id == Meeting.user_id) & (own.id == Meeting.checkin_id))
        .order_by(Meeting.id)
    ).all()
    arrived = _arrived(db_session, rows)
    found_at, sides, met = defaultdict(list), defaultdict(list), defaultdict(list)
    for meeting, created_at in rows:
        other = arrived.get((meeting.other_id, meeting.other_checkin_id))
        if other is None:
            continue  # the other side's check-in is gone
        sides[meeting.id].append((meeting.user_id, meeting.checkin_id))
        if other < (created_at, meeting.checkin_id):
            found_at[(meeting.user_id, meeting.checkin_id)].append(
                Recorded(
                    meeting.id,
                    meeting.other_id,
                    meeting.other_checkin_id,
                    meeting.met_at,
                    meeting.event_id,
                )
            )
    for user_id, created_at, other_id, event_id in db_session.execute(
        select(Meeting.user_id, Meeting.created_at, Meeting.other_id, Meeting.event_id).order_by(
            Meeting.user_id, Meeting.created_at
        )
    ):
        met[user_id].append((created_at, other_id, event_id))
    return found_at, sides, met


def _arrived(db_session: Session, rows: list) -> dict[tuple[int, int], tuple[datetime, int]]:
    """When each meeting's check-ins arrived, ``(created_at, id)`` by ``(user, check-in)``:
    each side's from its own row, the other side's from the other person's row (or, if
    that is gone, from ``arrived_at``)."""
    arrived = {
        (meeting.user_id, meeting.checkin_id): (created_at, meeting.checkin_id)
        for meeting, created_at in rows
    }
    missing = {(meeting.other_id, meeting.other_checkin_id) for meeting, _ in rows}
    found = arrived_at(db_session, missing - arrived.keys())
    return arrived | {key: (created_at, key[1]) for key, created_at in found.items()}


def arrived_at(db_session: Session, keys: set[tuple[int, int]]) -> dict[tuple[int, int], datetime]:
    """When these check-ins (``(user, id)``) arrived, those that exist: read by person id,
    never joined on a column naming another person (on Citus, their check-ins live on
    their own shard)."""
    if not keys:
        return {}
    rows = db_session.execute(
        select(Checkin.user_id, Checkin.id, Checkin.created_at).where(
            Checkin.user_id == any_(_ids(user for user, _ in keys)),
            Checkin.id == any_(_ids(checkin for _, checkin in keys)),
        )
    )
    return {(user, checkin): at for user, checkin, at in rows if (user, checkin) in keys}


def _ids(ids) -> BindParameter:
    return bindparam(None, sorted(set(ids)), type_=ARRAY(BigInteger))


def _staff(db_session: Session) -> dict[tuple[int, int], date | None]:
    """Who is left out of a venue's mayorship days (``mayorship._counted``): accepted
    staff on every day, former staff from the local day they accepted."""
    rows = db_session.execute(
        select(
            VenueStaff.venue_id,
            VenueStaff.user_id,
            VenueStaff.status,
            cast(func.timezone(Venue.timezone, VenueStaff.accepted_at), Date),
        )
        .join(Venue, Venue.id == VenueStaff.venue_id)
        .where(VenueStaff.status.in_(("accepted", "ended")))
    ).all()
    return {
        (venue_id, user_id): None if status == "accepted" else since
        for venue_id, user_id, status, since in rows
    }


def load(db_session: Session) -> History:
    """Read the history once."""
    arrivals = _arrivals(db_session)
    zones, cities, new_cities = _places(db_session)
    found_at, sides, met = _meetings(db_session)
    organisers = dict(db_session.execute(select(Event.id, Event.organiser_id)).all())
    return History(
        arrivals=arrivals,
        zones=zones,
        cities=cities,
        new_cities=new_cities,
        found_at=found_at,
        sides=sides,
        met=met,
        organisers=organisers,
        staff=_staff(db_session),
    )
