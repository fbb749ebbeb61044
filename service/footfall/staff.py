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

from sqlalchemy import exists, func, select

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


def excluded_meeting(venue_id, user_id, met_at):
    """A meeting of accepted staff of the venue held after they accepted."""
    return exists().where(
        accepted(venue_id),
        VenueStaff.user_id == user_id,
        VenueStaff.accepted_at <= met_at,
    )


def count(venue_id):
    """How many accepted staff the venue has (a scalar subquery)."""
    return select(func.count()).where(accepted(venue_id)).scalar_subquery()
