"""Which visits a venue's staff leave out of its footfall (PRODUCT.md, Trust).

Only *accepted* staff are left out, and only from the first local hour that begins at or
after they accepted (the rollup counts visits by the hour, and an hour that began before
the acceptance may hold visits made before it): every visit before the acceptance still
counts, and naming or accepting someone never changes a past figure. Someone who leaves
the staff stays left out from their acceptance on, so leaving never changes one either
(their later visits there are not counted: an undercount of one person, the price of not
revealing the staff period). Invited and declined people count like anyone. The rollup
itself keeps every visit; the staff rule is applied when reading, the same way by both
readers.
"""

from datetime import datetime

from sqlalchemy import and_, exists, false, func, or_, select
from sqlalchemy.orm import Session

from service.models import VenueStaff

# staff who accepted, and those who left since: leaving must not change past figures
ACCEPTED = ("accepted", "ended")


def accepted(venue_id):
    """Condition on ``VenueStaff``: staff of ``venue_id`` who accepted (even if they left
    since: their visits from the acceptance on stay out, so leaving reveals nothing)."""
    return (VenueStaff.venue_id == venue_id) & (VenueStaff.status.in_(ACCEPTED))


def excluded_visit(venue_id, user_id, hour_start):
    """A visit (its visitor and the start of its local hour at the venue) made by accepted
    staff of the venue after they accepted."""
    return exists().where(
        accepted(venue_id),
        VenueStaff.user_id == user_id,
        VenueStaff.accepted_at <= hour_start,
    )


def accepted_since(db_session: Session, venue_id: int) -> dict[int, datetime]:
    """The venue's accepted staff and when they accepted, read first by the readers
    whose rows are keyed by user (check-ins, meetings): on Citus those live apart from
    the venue's staff list and cannot be joined to it."""
    rows = db_session.execute(
        select(VenueStaff.user_id, VenueStaff.accepted_at).where(accepted(venue_id))
    )
    return {person: since for person, since in rows}


def excluded_by(staff: dict[int, datetime], user_id, at):
    """``excluded_visit`` for a staff list read first (``accepted_since``)."""
    return or_(false(), *[and_(user_id == person, at >= since) for person, since in staff.items()])


def excluded_meeting(staff: dict[int, datetime], user_id: int, met_at: datetime) -> bool:
    """A meeting of accepted staff of the venue held after they accepted."""
    since = staff.get(user_id)
    return since is not None and since <= met_at


def count(venue_id):
    """How many accepted staff the venue has (a scalar subquery)."""
    return select(func.count()).where(accepted(venue_id)).scalar_subquery()
