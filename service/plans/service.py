"""Meeting plans (PRODUCT.md, "Meeting safely"): make one, let the safety contact accept
to watch it, say all is well, cancel it; the worker keeps the deadline (``deadlines``)
and a check-in there tells the watcher I arrived (``arrival``).

Only the author and the safety contact ever see a plan: every read and write is keyed
by one of them, and anyone else gets 404. The person met is told only that there is a
safety contact. A safety contact is told of arrivals, "all good", cancellations and
alerts only once they accepted to watch (their consent), and a plan never changes
anyone's ``location_sharing``.
"""

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import clock
from service.common.people import person
from service.errors import Conflict, DomainError, NotFound
from service.models import Plan, User
from service.notifications import outbox
from service.plans import messages, views
from service.presence import visibility
from service.users.service import get_by_handle
from service.venues import service as venues

LONGEST_WATCH = timedelta(hours=12)  # check_by at most this long after ``at``
FURTHEST_AHEAD = timedelta(days=60)
KEEP_CLOSED = timedelta(days=7)
OPEN_PLANS = 10  # per author: each one notifies two contacts


def _invalid(field: str, message: str) -> DomainError:
    return DomainError(message, errors={"json": {field: [message]}})


def _contact(db_session: Session, user: User, handle: str, field: str) -> User:
    """A mutual contact of ``user`` by handle; 422 otherwise (unknown or not a contact
    alike: handles are public, but a plan only ever involves contacts)."""
    try:
        contact = get_by_handle(db_session=db_session, handle=handle)
    except NotFound:
        contact = None
    if (
        contact is None
        or contact.id == user.id
        or not visibility.is_contact(db_session, user.id, contact.id)
    ):
        raise _invalid(field, f"{handle} is not one of your contacts (you follow each other).")
    return contact


def _check_times(at: datetime, check_by: datetime, now: datetime) -> None:
    if check_by <= now:
        raise _invalid("check_by", "check_by has passed; pick a time after now.")
    if check_by <= at:
        raise _invalid("check_by", "check_by must come after the meeting's time (at).")
    if check_by > at + LONGEST_WATCH:
        raise _invalid("check_by", "check_by may be at most 12 hours after the meeting's time.")
    if at > now + FURTHEST_AHEAD:
        raise _invalid("at", "Plans can be made at most 60 days ahead.")


def _lock_author(db_session: Session, user_id: int) -> None:
    """One author's plan changes in turn (the open-plans cap is then exact)."""
    db_session.execute(
        select(User.id).where(User.id == user_id).with_for_update(key_share=True)
    ).one()


def create(
    *,
    db_session: Session,
    user: User,
    with_handle: str,
    safety_handle: str,
    venue_id: int,
    at: datetime,
    check_by: datetime,
) -> dict:
    """Plan to meet a contact, watched by another; both are told (the person met only
    that there is a safety contact)."""
    now = clock.now()
    _check_times(at, check_by, now)
    venue = venues.get(db_session=db_session, venue_id=venue_id)
    other = _contact(db_session, user, with_handle, "with")
    safety = _contact(db_session, user, safety_handle, "safety_contact")
    if other.id == safety.id:
        raise _invalid(
            "safety_contact", "The safety contact must be someone other than the person you meet."
        )
    _lock_author(db_session, user.id)
    open_plans = db_session.scalar(
        select(func.count()).where(Plan.user_id == user.id, Plan.closed_at.is_(None))
    )
    if open_plans >= OPEN_PLANS:
        raise DomainError(f"You have {OPEN_PLANS} open plans; close or cancel one first.")
    plan = Plan(
        user_id=user.id,
        with_id=other.id,
        safety_id=safety.id,
        venue_id=venue.id,
        at=at,
        check_by=check_by,
        due_at=check_by,
        created_at=now,
    )
    db_session.add(plan)
    db_session.flush()
    shown = views.author_view(db_session, user.id, plan.id)
    author = person(user.handle, user.display_name)
    outbox.queue(
        db_session,
        messages.watch(plan=shown, author=author, author_id=user.id, safety_id=safety.id),
    )
    outbox.queue(
        db_session,
        messages.has_safety_contact(plan=shown, author=author, author_id=user.id, with_id=other.id),
    )
    return shown


def _mine(user_id: int, plan_id: int):
    return (Plan.user_id == user_id) & (Plan.id == plan_id)


def list_mine(*, db_session: Session, user_id: int, limit: int, before: int | None):
    """My plans, newest first; ``(page, last id if there are more)``."""
    found = views.rows(db_session, Plan.user_id == user_id, before=before, limit=limit + 1)
    page = views.for_author(db_session, found[:limit])
    return page, (page[-1]["id"] if len(found) > limit else None)


def list_watching(*, db_session: Session, user_id: int, limit: int, before: int | None):
    """Plans I was asked to watch, newest first; ``(page, last id if more)``."""
    found = views.rows(db_session, Plan.safety_id == user_id, before=before, limit=limit + 1)
    page = views.for_watcher(db_session, found[:limit], user_id)
    return page, (page[-1]["id"] if len(found) > limit else None)


def _open_plan(db_session: Session, condition) -> Plan:
    plan = db_session.scalars(select(Plan).where(condition).with_for_update()).first()
    if plan is None:
        raise NotFound("No such plan.")
    if plan.closed_at is not None:
        raise Conflict(f"This plan is closed ({plan.outcome}).")
    return plan


def close(plan: Plan, outcome: str, now: datetime) -> None:
    """Close a plan; it is deleted ``KEEP_CLOSED`` later (by the worker)."""
    plan.outcome, plan.closed_at, plan.due_at = outcome, now, now + KEEP_CLOSED


def _tell_watcher(db_session: Session, user: User, plan: Plan, shown: dict, draft) -> None:
    """``draft`` of the plan as ``shown`` to its author, for the watcher if they accepted."""
    if plan.accepted_at is None:
        return  # they never agreed to watch
    author = person(user.handle, user.display_name)
    outbox.queue(
        db_session, draft(plan=shown, author=author, author_id=user.id, safety_id=plan.safety_id)
    )


def all_good(*, db_session: Session, user: User, plan_id: int) -> dict:
    """I am fine: the watcher is told, and the plan closes."""
    plan = _open_plan(db_session, _mine(user.id, plan_id))
    now = clock.now()
    plan.ok_at = now
    close(plan, "ok", now)
    db_session.flush()
    shown = views.author_view(db_session, user.id, plan.id)
    _tell_watcher(db_session, user, plan, shown, messages.all_good)
    return shown


def cancel(*, db_session: Session, user: User, plan_id: int) -> None:
    """Cancel an open plan (the watcher is told), or delete a closed one now."""
    plan = db_session.scalars(select(Plan).where(_mine(user.id, plan_id)).with_for_update()).first()
    if plan is None:
        raise NotFound("No such plan.")
    if plan.closed_at is not None:
        db_session.delete(plan)
        db_session.flush()
        return
    close(plan, "cancelled", clock.now())
    db_session.flush()
    if plan.accepted_at is not None:
        shown = views.author_view(db_session, user.id, plan.id)
        _tell_watcher(db_session, user, plan, shown, messages.cancelled)


def accept(*, db_session: Session, user: User, plan_id: int) -> dict:
    """I agree to watch a plan I was asked to (again: nothing changes); its author is
    told."""
    # its author first (one scan, nothing locked), then the lock by its key: on Citus a
    # lock must name the author, whose shard the plan lives on
    author_id = db_session.scalar(
        select(Plan.user_id).where(Plan.safety_id == user.id, Plan.id == plan_id)
    )
    if author_id is None:
        raise NotFound("No such plan.")
    plan = _open_plan(db_session, _mine(author_id, plan_id) & (Plan.safety_id == user.id))
    newly = plan.accepted_at is None
    if newly:
        plan.accepted_at = clock.now()
        db_session.flush()
    shown = views.watcher_view(db_session, plan.user_id, plan.id, user.id)
    if newly:
        outbox.queue(
            db_session,
            messages.watching(
                plan=shown,
                safety=person(user.handle, user.display_name),
                safety_id=user.id,
                author_id=plan.user_id,
            ),
        )
    return shown
