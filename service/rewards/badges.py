"""Evaluate the catalogue for a user and award what is due, exactly once.

``user_badges``' primary key (user, badge, level) is the guarantee: an award is an
INSERT ... ON CONFLICT DO NOTHING, so racing check-ins can never award twice.
"""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.models import Checkin, User, UserBadge, Venue
from service.notifications import messages, outbox
from service.rewards.catalogue import BY_KEY, CATALOGUE, Badge
from service.rewards.rules import RULES, SOCIAL_KINDS, Context


def held(ctx: Context) -> set[tuple[str, int]]:
    """The (badge, level) pairs the user already has."""
    rows = ctx.db_session.execute(
        select(UserBadge.badge, UserBadge.level).where(UserBadge.user_id == ctx.user_id)
    )
    return {tuple(row) for row in rows}


def _award(ctx: Context, badge: Badge, level: int, checkin_id: int | None) -> bool:
    inserted = ctx.db_session.execute(
        insert(UserBadge)
        .values(
            user_id=ctx.user_id,
            badge=badge.key,
            level=level,
            awarded_at=ctx.now,
            checkin_id=checkin_id,
        )
        .on_conflict_do_nothing()
        .returning(UserBadge.badge)
    ).first()
    if inserted is not None:
        outbox.queue(ctx.db_session, messages.badge(user_id=ctx.user_id, badge=view(badge, level)))
    return inserted is not None


def evaluate(ctx: Context, kinds: frozenset[str] | None = None) -> list[dict]:
    """Award every badge level the user now qualifies for; return the new ones."""
    have = held(ctx)
    checkin_id = ctx.checkin.id if ctx.checkin is not None else None
    new = []
    for badge in CATALOGUE:
        rule = RULES.get(badge.kind)
        missing = [
            (level, threshold)
            for level, threshold in enumerate(badge.levels, 1)
            if (badge.key, level) not in have
        ]
        if rule is None or not missing or (kinds is not None and badge.kind not in kinds):
            continue
        value = rule(ctx, badge.params, max(badge.levels))
        for level, threshold in missing:
            if value >= threshold and _award(ctx, badge, level, checkin_id):
                new.append(view(badge, level))
    return new


def crowd_for_others(ctx: Context) -> list[tuple[int, dict]]:
    """When this check-in makes a crowd, everyone else in it may earn Crowd too."""
    badge = BY_KEY["crowd"]
    window = timedelta(hours=badge.params["window_hours"])
    at = ctx.checkin.effective_at
    others = ctx.db_session.scalars(
        select(Checkin)
        .where(
            Checkin.venue_id == ctx.checkin.venue_id,
            Checkin.eligible,
            Checkin.user_id != ctx.user_id,
            Checkin.created_at <= ctx.now,
            Checkin.effective_at >= at - window,
            Checkin.effective_at <= at + window,
            ~select(UserBadge.user_id)
            .where(UserBadge.user_id == Checkin.user_id, UserBadge.badge == badge.key)
            .exists(),
        )
        .order_by(Checkin.user_id, Checkin.id)
    ).all()
    awarded = []
    for other in others:
        other_ctx = Context(ctx.db_session, other.user_id, ctx.now, other, ctx.venue)
        awarded += [(other.user_id, b) for b in evaluate(other_ctx, frozenset({"crowd"}))]
    return awarded


def for_checkin(
    db_session: Session,
    user: User,
    checkin: Checkin,
    venue: Venue,
    now: datetime,
    meetings: list[dict],
    other_mayor: int | None,
    organiser: int | None = None,
    changed: frozenset[str] | None = None,
) -> list[dict]:
    """New badges of the person checking in; also award what the check-in earned others
    (met contacts, a crowd, a mayor whose rival's days ran out, the event's organiser).

    ``changed`` limits the person's own evaluation to the rule kinds this check-in can have
    moved (None: all)."""
    if changed is not None and meetings:
        changed = changed | SOCIAL_KINDS
    mine = evaluate(Context(db_session, user.id, now, checkin, venue), changed)
    for meeting in meetings:
        evaluate(Context(db_session, meeting["user_id"], now), SOCIAL_KINDS)
    if other_mayor is not None:
        evaluate(Context(db_session, other_mayor, now), frozenset({"mayorships"}))
    if organiser is not None and organiser != user.id:
        evaluate(Context(db_session, organiser, now), frozenset({"hosted_event_checkins"}))
    crowd_for_others(Context(db_session, user.id, now, checkin, venue))
    return mine


def view(badge: Badge, level: int) -> dict:
    """A badge as the API shows it."""
    return {"key": badge.key, "name": badge.name, "level": level, "description": badge.description}
