"""The worker's side of meeting plans: act on each plan when it falls due.

``due_at`` says when: at ``check_by`` a plan nobody arrived at and nobody called "all
good" alerts its watcher (urgent), and again 30 minutes later unless the author answers;
an arrived plan just closes; an unwatched one (never accepted) closes without anyone to
alert. Seven days after closing, the plan is deleted. Due plans are read without a lock,
then each is claimed by its key with ``FOR UPDATE SKIP LOCKED``, only if still due, and
changed in the same transaction as the alerts it writes (the outbox), so several workers
alert exactly once, and a worker that restarts finds what fell due meanwhile: the state
is in the table, not in the worker. Claiming by key keeps each lock on one shard on
Citus, which refuses FOR UPDATE across shards.
"""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo import sql as geosql
from geo.coords import LatLon
from service.common.people import person
from service.models import Plan, User, Venue
from service.notifications import outbox
from service.plans import messages, views
from service.plans.service import close
from service.presence import shaping

AGAIN_AFTER = timedelta(minutes=30)
BATCH = 50


def _last_seen(db_session: Session, author_id: int) -> dict | None:
    """Where the author was last seen, as their sharing lets a contact see them."""
    row = db_session.execute(
        select(
            User.id,
            User.location_sharing,
            User.seen_at,
            User.seen_venue_id,
            Venue.name,
            geosql.latitude(User.seen_location).label("lat"),
            geosql.longitude(User.seen_location).label("lon"),
        )
        .outerjoin(Venue, Venue.id == User.seen_venue_id)
        .where(User.id == author_id)
    ).one()
    if row.seen_at is None or row.location_sharing == "off":
        return None
    position = shaping.shown_position(row.id, row.location_sharing, LatLon(row.lat, row.lon))
    exact = row.location_sharing == "exact"
    venue = {"id": row.seen_venue_id, "name": row.name, "location": position.as_dict()}
    return {
        "at": row.seen_at,
        "location": position.as_dict(),
        "venue": venue if exact else None,
    }


def _alert(db_session: Session, plan: Plan, now: datetime) -> None:
    plan.alerts += 1
    found = views.rows(db_session, (Plan.user_id == plan.user_id) & (Plan.id == plan.id))
    (shown,) = views.for_author(db_session, found)
    outbox.queue(
        db_session,
        messages.missed(
            plan=shown,
            author=person(found[0].author_handle, found[0].author_name),
            author_id=plan.user_id,
            safety_id=plan.safety_id,
            last_seen=_last_seen(db_session, plan.user_id),
            alert=plan.alerts,
        ),
    )
    if plan.alerts == 1:
        plan.due_at = now + AGAIN_AFTER
    else:
        close(plan, "missed", now)


def act(db_session: Session, plan: Plan, now: datetime) -> None:
    """What a due plan needs now."""
    if plan.closed_at is not None:
        db_session.delete(plan)  # closed a week ago
    elif plan.arrived_at is not None:
        close(plan, "arrived", now)
    elif plan.accepted_at is None:
        close(plan, "unwatched", now)
    else:
        _alert(db_session, plan, now)


def _due(db_session: Session, now: datetime, batch: int) -> list:
    """The keys of up to ``batch`` due plans, the longest due first (nothing locked)."""
    return db_session.execute(
        select(Plan.user_id, Plan.id).where(Plan.due_at <= now).order_by(Plan.due_at).limit(batch)
    ).all()


def _claim(db_session: Session, user_id: int, plan_id: int, now: datetime) -> Plan | None:
    """Lock the plan if it is still due and no other worker holds it."""
    return db_session.scalars(
        select(Plan)
        .where(Plan.user_id == user_id, Plan.id == plan_id, Plan.due_at <= now)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).first()


def run_due(db_session: Session, now: datetime, batch: int = BATCH) -> int:
    """Act on up to ``batch`` due plans in one transaction (committed here); how many."""
    acted = 0
    for user_id, plan_id in _due(db_session, now, batch):
        plan = _claim(db_session, user_id, plan_id, now)
        if plan is not None:  # None: another worker has it, or acted on it already
            act(db_session, plan, now)
            acted += 1
    db_session.flush()
    db_session.commit()
    return acted


def run(db_session: Session, now: datetime) -> int:
    """The worker's job: every due plan, a committed batch at a time; how many."""
    acted = 0
    while (done := run_due(db_session, now)) == BATCH:
        acted += done
    return acted + done
