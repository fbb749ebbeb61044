"""The facts the eligibility rules need, measured in PostGIS for one new check-in."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo import sql as geosql
from geo.coords import LatLon
from geo.rules import REPEAT_WINDOW
from service.models import Checkin, Venue


@dataclass(frozen=True)
class Measures:
    """Distances in metres on the spheroid; times aware UTC."""

    venue_distance_m: float
    previous_distance_m: float | None
    previous_at: datetime | None
    nearest_same_venue_at: datetime | None
    visited_before: bool


def measure(
    *, db_session: Session, user_id: int, venue: Venue, position: LatLon, at: datetime
) -> Measures:
    """Distance to the venue, the previous check-in, repeats and first visit."""
    here = geosql.point(position)
    venue_distance = db_session.scalar(
        select(geosql.distance_m(Venue.location, here)).where(Venue.id == venue.id)
    )
    previous = db_session.execute(
        select(Checkin.effective_at, geosql.distance_m(Checkin.location, here))
        .where(Checkin.user_id == user_id, Checkin.effective_at <= at)
        .order_by(Checkin.effective_at.desc(), Checkin.id.desc())
        .limit(1)
    ).first()
    same_venue = db_session.scalars(
        select(Checkin.effective_at)
        .where(
            Checkin.user_id == user_id,
            Checkin.venue_id == venue.id,
            Checkin.effective_at > at - REPEAT_WINDOW,
            Checkin.effective_at < at + REPEAT_WINDOW,
        )
        .order_by(func.abs(func.extract("epoch", Checkin.effective_at - at)))
        .limit(1)
    ).first()
    visited = (
        db_session.scalar(
            select(Checkin.id)
            .where(Checkin.user_id == user_id, Checkin.venue_id == venue.id, Checkin.eligible)
            .limit(1)
        )
        is not None
    )
    return Measures(
        venue_distance_m=float(venue_distance),
        previous_distance_m=float(previous[1]) if previous else None,
        previous_at=previous[0] if previous else None,
        nearest_same_venue_at=same_venue,
        visited_before=visited,
    )
