"""Which visits a venue's staff leave out of its footfall (PRODUCT.md, Trust).

Only *accepted* staff are left out, and only from the first local hour that begins at or
after they accepted (the rollup counts visits by the hour, and an hour that began before
the acceptance may hold visits made before it): every visit before the acceptance still
counts, and naming or accepting someone never changes a past figure. Invited and
declined people count like anyone. The rollup itself keeps every visit; the staff rule
is applied when reading, the same way by both readers.
"""

from sqlalchemy import exists, func, select

from service.models import VenueStaff

ACCEPTED = "accepted"


def accepted(venue_id):
    """Condition on ``VenueStaff``: accepted staff of ``venue_id``."""
    return (VenueStaff.venue_id == venue_id) & (VenueStaff.status == ACCEPTED)


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
