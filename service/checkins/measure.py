"""The facts the eligibility rules need, measured in PostGIS for one new check-in."""

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import DateTime, Float, bindparam, func, literal, select, true
from sqlalchemy.orm import Session

from geo import sql as geosql
from geo.coords import LatLon
from geo.rules import PLACES_WINDOW, REPEAT_WINDOW
from service.models import Checkin, Venue


@dataclass(frozen=True)
class Measures:
    """Distances in metres on the spheroid; times aware UTC."""

    venue_distance_m: float
    previous_distance_m: float | None
    previous_at: datetime | None
    nearest_same_venue_at: datetime | None
    other_venues_in_window: int


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
    return (
        select(
            venue_distance.label("venue_distance_m"),
            previous.c.previous_at,
            previous.c.previous_distance_m,
            same_venue.label("same_venue_at"),
            other_venues.label("other_venues"),
        )
        .select_from(select(literal(1)).subquery())
        .outerjoin(previous, true())
    )


def measure(
    *, db_session: Session, user_id: int, venue: Venue, position: LatLon, at: datetime
) -> Measures:
    """Distance to the venue, the previous check-in, repeats at this venue and the
    other venues within the hour around it."""
    row = db_session.execute(
        _statement(),
        {
            "lat": position.lat,
            "lon": position.lon,
            "at": at,
            "user_id": user_id,
            "venue_id": venue.id,
        },
    ).one()
    return Measures(
        venue_distance_m=float(row.venue_distance_m),
        previous_distance_m=None if row.previous_at is None else float(row.previous_distance_m),
        previous_at=row.previous_at,
        nearest_same_venue_at=row.same_venue_at,
        other_venues_in_window=int(row.other_venues),
    )
