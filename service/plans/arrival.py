"""A check-in where a plan said I would be tells my watcher I arrived.

Where: the plan's venue or one at most 75 m from it (the same building is often several
venues, as for meetings). When: from 30 minutes before the meeting until ``check_by``.
Only a check-in that was probably there counts (footfall's rule: not too far, too fast
or imprecise). Asked only when the author has an open plan, which the check-in's user
lock reads at no extra cost, so a check-in without plans runs nothing here.
"""

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from geo import sql as geosql
from service.common.people import person
from service.footfall.rollup import counts
from service.models import Checkin, Plan, User, Venue
from service.notifications import outbox
from service.plans import messages, views

EARLY = timedelta(minutes=30)
REACH_M = 75.0


def record(*, db_session: Session, user: User, checkin: Checkin) -> int:
    """Mark the open plans this check-in arrives at and tell their watchers; how many."""
    if not counts(checkin.reasons):
        return 0
    at: datetime = checkin.effective_at
    open_here = [
        Plan.user_id == user.id,
        Plan.closed_at.is_(None),
        Plan.arrived_at.is_(None),
        Plan.at <= at + EARLY,
        Plan.check_by >= at,
    ]
    # which plans, then mark them: Citus runs no PostGIS function over a column of the
    # row an UPDATE changes (they are STABLE), so the distance is asked in a SELECT
    near = select(Plan.id).where(
        *open_here,
        geosql.within_m(_location(Plan.venue_id), _location(checkin.venue_id), REACH_M),
    )
    ids = list(db_session.scalars(near))
    if not ids:
        return 0
    arrived = db_session.execute(
        update(Plan)
        .where(*open_here, Plan.id.in_(ids))
        .values(arrived_at=at, arrived_checkin_id=checkin.id)
        .returning(Plan.id, Plan.accepted_at)
        .execution_options(synchronize_session=False)
    ).all()
    watched = [row.id for row in arrived if row.accepted_at is not None]
    if watched:
        author = person(user.handle, user.display_name)
        found = views.rows(db_session, Plan.user_id == user.id, Plan.id.in_(watched))
        for row, shown in zip(found, views.for_author(db_session, found), strict=True):
            outbox.queue(
                db_session,
                messages.arrived(
                    plan=shown,
                    author=author,
                    author_id=user.id,
                    safety_id=row.Plan.safety_id,
                    at=at,
                ),
            )
    return len(arrived)


def _location(venue_id):
    return select(Venue.location).where(Venue.id == venue_id).scalar_subquery()


def open_plans(user_id):
    """SQL: the user has an open plan (an index probe, for the check-in's lock)."""
    return (
        select(Plan.id).where(Plan.user_id == user_id, Plan.closed_at.is_(None)).limit(1).exists()
    )
