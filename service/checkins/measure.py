"""The facts the eligibility rules need, measured in PostGIS for one new check-in."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlalchemy import Date, DateTime, Float, bindparam, func, select, true
from sqlalchemy.orm import Session

from geo import sql as geosql
from geo.coords import LatLon
from geo.rules import PLACES_WINDOW, REPEAT_WINDOW
from service.models import Checkin, Venue
from service.rewards.rules import Around


@dataclass(frozen=True)
class Measures:
    """Distances in metres on the spheroid; times aware UTC."""

    venue_distance_m: float
    previous_distance_m: float | None
    previous_at: datetime | None
    nearest_same_venue_at: datetime | None
    other_venues_in_window: int
    # for the rewards (read in the same round trip): the user's eligible check-ins' local
    # days around this one's, and their times at this venue around it
    around: Around | None = None
    # for the hourly limit: the user's check-ins created since ``since``, and the oldest
    recent_checkins: int = 0
    oldest_recent_at: datetime | None = None


# how far around the check-in the rewards look: a streak's run (its bonus stops at 11
# days; the longest streak badge is 7) and the Local badge's window
DAYS_AROUND = 31
VENUE_TIMES_AROUND = timedelta(days=7)


@lru_cache(maxsize=1)
def _statement():
    """All measurements in one round trip, built once with bound parameters."""
    here = geosql.point_of(bindparam("lat", type_=Float), bindparam("lon", type_=Float))
    at = bindparam("at", type_=DateTime(timezone=True))
    user_id, venue_id = bindparam("user_id"), bindparam("venue_id")
    venue_distance = (
        select(geosql.distance_m(Venue.location, here))
        .where(Venue.id == venue_id)
        .scalar_subquery()
    )
    previous = (
        select(
            Checkin.effective_at.label("previous_at"),
            geosql.distance_m(Checkin.location, here).label("previous_distance_m"),
        )
        .where(Checkin.user_id == user_id, Checkin.effective_at <= at)
        .order_by(Checkin.effective_at.desc(), Checkin.id.desc())
        .limit(1)
        .lateral("previous")
    )
    same_venue = (
        select(Checkin.effective_at)
        .where(
            Checkin.user_id == user_id,
            Checkin.venue_id == venue_id,
            Checkin.effective_at > at - REPEAT_WINDOW,
            Checkin.effective_at < at + REPEAT_WINDOW,
        )
        .order_by(func.abs(func.extract("epoch", Checkin.effective_at - at)))
        .limit(1)
        .scalar_subquery()
    )
    other_venues = (
        select(func.count(func.distinct(Checkin.venue_id)))
        .where(
            Checkin.user_id == user_id,
            Checkin.venue_id != venue_id,
            Checkin.effective_at > at - PLACES_WINDOW,
            Checkin.effective_at < at + PLACES_WINDOW,
        )
        .scalar_subquery()
    )
    day = bindparam("day", type_=Date)
    days = select(func.array_agg(func.distinct(Checkin.local_day))).where(
        Checkin.user_id == user_id,
        Checkin.eligible,
        Checkin.local_day > day - DAYS_AROUND,
        Checkin.local_day < day + DAYS_AROUND,
    )
    venue_times = select(func.array_agg(Checkin.effective_at)).where(
        Checkin.user_id == user_id,
        Checkin.venue_id == venue_id,
        Checkin.eligible,
        Checkin.effective_at > at - VENUE_TIMES_AROUND,
        Checkin.effective_at < at + VENUE_TIMES_AROUND,
    )
    recent = (
        select(func.count().label("recent"), func.min(Checkin.created_at).label("oldest"))
        .where(
            Checkin.user_id == user_id,
            Checkin.created_at > bindparam("since", type_=DateTime(timezone=True)),
        )
        .subquery()
    )
    return (
        select(
            recent.c.recent,
            recent.c.oldest,
            venue_distance.label("venue_distance_m"),
            previous.c.previous_at,
            previous.c.previous_distance_m,
            same_venue.label("same_venue_at"),
            other_venues.label("other_venues"),
            days.scalar_subquery().label("days"),
            venue_times.scalar_subquery().label("venue_times"),
        )
        .select_from(recent)
        .outerjoin(previous, true())
    )


def measure(
    *,
    db_session: Session,
    user_id: int,
    venue: Venue,
    position: LatLon,
    at: datetime,
    local_day: date,
    since: datetime,
) -> Measures:
    """Distance to the venue, the previous check-in, repeats at this venue and the
    other venues within the hour around it; for the rewards, the days and the times at
    this venue of the user's eligible check-ins around it; and how many check-ins they
    made since ``since`` (the hourly limit)."""
    row = (
        db_session.connection()
        .execute(
            _statement(),
            {
                "lat": position.lat,
                "lon": position.lon,
                "at": at,
                "user_id": user_id,
                "venue_id": venue.id,
                "day": local_day,
                "since": since,
            },
        )
        .one()
    )
    return Measures(
        venue_distance_m=float(row.venue_distance_m),
        previous_distance_m=None if row.previous_at is None else float(row.previous_distance_m),
        previous_at=row.previous_at,
        nearest_same_venue_at=row.same_venue_at,
        other_venues_in_window=int(row.other_venues),
        around=Around(
            days=frozenset(row.days or ()),
            venue_times=tuple(row.venue_times or ()),
            days_span=DAYS_AROUND,
            venue_span=VENUE_TIMES_AROUND,
        ),
        recent_checkins=row.recent,
        oldest_recent_at=row.oldest,
    )
