"""Mayorships that age out (PRODUCT.md, Mayorship: "in the last 60 days").

A stored mayor holds until the day their oldest counted day leaves the window
(``venue_mayors.expires_at``). From then:

- the read (``as_of``) replays the due re-decisions without writing, so
  ``GET /venues/{id}/mayor`` always follows the rule as of now;
- ``settle_venue`` writes them, each as of its own day (history, +25 to a new mayor,
  the Mayor badge, gained/lost notifications through the outbox). A check-in at the venue
  and a staff change settle first; the periodic job (``expire_due``: the push worker
  every few minutes, and ``flask expire-mayorships``) settles every venue that fell due,
  found through the index on ``expires_at``.

Each re-decision is dated at its expiry, not when it was written, so the result does
not depend on when (or whether) the job ran; ``recompute-rewards`` reproduces it.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Venue, VenueMayor
from service.rewards import badges, mayorship
from service.rewards.ledger import credit
from service.rewards.rules import Context, Fact, moved_by

BATCH = 500


def _steps(db_session: Session, current: VenueMayor, zone: str, now: datetime) -> list:
    first_day = mayorship.local_day(current.expires_at, zone)
    days = mayorship.visit_days(
        db_session, current.venue_id, first_day - mayorship.WINDOW, mayorship.local_day(now, zone)
    )
    return mayorship.settle(days, current.user_id, current.expires_at, zone, now)


def as_of(db_session: Session, current: VenueMayor, zone: str, now: datetime) -> tuple:
    """``(mayor, days, since)`` of a stored mayorship as of ``now``, without writing
    (mayor None: nobody qualifies any more)."""
    if current.expires_at > now:
        return current.user_id, current.days, current.since
    mayor, days, since = current.user_id, current.days, current.since
    for step in _steps(db_session, current, zone, now):
        if step.mayor != step.previous:
            since = step.at
        mayor, days = step.mayor, step.days
    return mayor, days, since


def settle_venue(db_session: Session, venue: Venue, now: datetime, points: int) -> int:
    """Write the re-decisions of the venue's mayorship that fell due by ``now``; returns
    how many changed the mayor. Takes the venue's decision lock."""
    current = db_session.get(VenueMayor, venue.id)  # the identity map's, when loaded
    if current is None or current.expires_at > now:
        return 0
    mayorship.lock(db_session, venue.id)
    current = db_session.get(VenueMayor, venue.id, populate_existing=True)
    if current is None or current.expires_at > now:
        return 0
    changed = 0
    for step in _steps(db_session, current, venue.timezone, now):
        mayorship.record(db_session, venue.id, current, step)
        if step.mayor is None or step.mayor == step.previous:
            continue
        changed += 1
        credit(db_session, step.mayor, points, "mayorship", step.at, None)
        badges.evaluate(
            Context(db_session, step.mayor, step.at), moved_by(frozenset({Fact.NEW_MAYORSHIP}))
        )
    db_session.flush()
    return changed


def due_query(now: datetime, limit: int | None = BATCH):
    """Venues whose mayorship fell due by ``now``, oldest first: a range scan of the
    ``expires_at`` index, never a pass over every venue."""
    return (
        select(VenueMayor.venue_id)
        .where(VenueMayor.expires_at <= now)
        .order_by(VenueMayor.expires_at, VenueMayor.venue_id)
        .limit(limit)
    )


def due(db_session: Session, now: datetime, limit: int | None = BATCH) -> list[int]:
    """The venues ``due_query`` finds."""
    return db_session.scalars(due_query(now, limit)).all()


def expire_due(db_session: Session, now: datetime, points: int) -> int:
    """Settle every venue whose mayorship fell due by ``now``, in the session's
    transaction; returns how many venues (``run`` commits each one)."""
    venue_ids = due(db_session, now, limit=None)
    for venue_id in venue_ids:
        settle_venue(db_session, db_session.get(Venue, venue_id), now, points)
    return len(venue_ids)


def run(db_session: Session, now: datetime, points: int) -> int:
    """The periodic job: settle the due venues, one short transaction each (their
    notifications go out as each commits); returns how many venues."""
    total = 0
    while True:
        venue_ids = due(db_session, now)
        for venue_id in venue_ids:
            settle_venue(db_session, db_session.get(Venue, venue_id), now, points)
            db_session.commit()
        total += len(venue_ids)
        if len(venue_ids) < BATCH:
            return total
