"""Empty every reward a replay of the history rebuilds (both ways of recomputing)."""

from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session

from service.models import (
    Checkin,
    MayorshipChange,
    Meeting,
    PointsEntry,
    User,
    UserBadge,
    UserCity,
    UserVenue,
    VenueMayor,
    VenueVisitDay,
)


def reset(db_session: Session) -> None:
    """Badges, visits, mayors, the ledger and the totals and counters kept from them."""
    for model in (
        UserBadge,
        UserVenue,
        UserCity,
        VenueVisitDay,
        VenueMayor,
        MayorshipChange,
        PointsEntry,
    ):
        db_session.execute(delete(model))
    # only the rows that change: a fresh bulk load has nothing to reset but would rewrite
    # every row (and every index entry) of these tables
    kept = (User.points, User.eligible_checkins, User.venues_visited, User.cities_visited)
    db_session.execute(
        update(User)
        .where(or_(*[column != 0 for column in kept]))
        .values(points=0, eligible_checkins=0, venues_visited=0, cities_visited=0)
    )
    db_session.execute(update(Checkin).where(Checkin.points != 0).values(points=0))
    db_session.execute(update(Meeting).where(Meeting.first_time).values(first_time=False))
