"""Evaluate the catalogue for a user and award what is due, exactly once.

``user_badges``' primary key (user, badge, level) is the guarantee: an award is an
INSERT ... ON CONFLICT DO NOTHING, so racing check-ins can never award twice.
"""

from datetime import timedelta
from functools import lru_cache

from sqlalchemy import BigInteger, DateTime, Integer, String, bindparam, func, select
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.orm import Session, aliased

from service.models import Checkin, UserBadge
from service.notifications import messages, outbox
from service.rewards.catalogue import CATALOGUE, Badge
from service.rewards.rules import RULES, Context, Fact, moved_by

CROWDS = tuple(badge for badge in CATALOGUE if badge.kind == "crowd")


def measure_key(badge: Badge) -> tuple:
    """What a badge measures: badges of one kind and parameters share one measure."""
    return badge.kind, repr(sorted(badge.params.items()))


# how far a measure must count: the highest threshold of the badges sharing it
CAPS: dict[tuple, int] = {}
for _badge in CATALOGUE:
    _key = measure_key(_badge)
    CAPS[_key] = max(CAPS.get(_key, 0), *_badge.levels)


@lru_cache(maxsize=1)
def _held_statement():
    return select(UserBadge.badge, UserBadge.level).where(UserBadge.user_id == bindparam("u"))


def held(db_session: Session, user_id: int) -> set[tuple[str, int]]:
    """The (badge, level) pairs the user already has."""
    return {
        tuple(row) for row in db_session.connection().execute(_held_statement(), {"u": user_id})
    }


@lru_cache(maxsize=1)
def _award_statement():
    """Award one badge level unless held (the primary key decides); built once."""
    return (
        insert(UserBadge.__table__)
        .values(
            user_id=bindparam("p_user", type_=BigInteger),
            badge=bindparam("p_badge", type_=String),
            level=bindparam("p_level", type_=Integer),
            awarded_at=bindparam("p_at", type_=DateTime(timezone=True)),
            checkin_id=bindparam("p_checkin", type_=BigInteger),
        )
        .on_conflict_do_nothing()
        .returning(UserBadge.badge)
    )


def _award(ctx: Context, badge: Badge, level: int, checkin_id: int | None) -> bool:
    inserted = (
        ctx.db_session.connection()
        .execute(
            _award_statement(),
            {
                "p_user": ctx.user_id,
                "p_badge": badge.key,
                "p_level": level,
                "p_at": ctx.now,
                "p_checkin": checkin_id,
            },
        )
        .first()
    )
    if inserted is not None:
        outbox.queue(ctx.db_session, messages.badge(user_id=ctx.user_id, badge=view(badge, level)))
    return inserted is not None


def evaluate(
    ctx: Context, kinds: frozenset[str], have: set[tuple[str, int]] | None = None
) -> list[dict]:
    """Award every badge level of these rule kinds the user now qualifies for; return the
    new ones. ``have``: the badges held, when the caller already read them."""
    if not kinds:
        return []
    if have is None:
        have = held(ctx.db_session, ctx.user_id)
    checkin_id = ctx.checkin.id if ctx.checkin is not None else None
    new, measured = [], {}
    for badge in CATALOGUE:
        if badge.kind not in kinds:
            continue
        missing = [
            (level, threshold)
            for level, threshold in enumerate(badge.levels, 1)
            if (badge.key, level) not in have
        ]
        if not missing:
            continue
        value = ctx.known.get(badge.kind)
        if value is None:  # badges of one kind with the same parameters measure once
            key = measure_key(badge)
            if key not in measured:
                measured[key] = RULES[badge.kind].measure(ctx, badge.params, CAPS[key])
            value = measured[key]
        for level, threshold in missing:
            if value >= threshold and _award(ctx, badge, level, checkin_id):
                new.append(view(badge, level))
    return new


@lru_cache(maxsize=1)
def _crowd_statement():
    """The check-ins at a venue around ``at`` now in a crowd whose people hold no Crowd
    badge: the person's own check-in and everyone else's within the window, each with
    the people within the window of it; built once. A first pass over twice the window
    (``LIMIT`` the threshold) settles the common case, no crowd, without the per-check-in
    counts."""
    badge = CROWDS[0]
    window = timedelta(hours=badge.params["window_hours"])
    threshold = min(badge.levels)
    at = bindparam("at", type_=DateTime(timezone=True))
    now = bindparam("now", type_=DateTime(timezone=True))
    venue_id, user_id, checkin_id = bindparam("venue_id"), bindparam("user_id"), bindparam("id")

    def around(start, end):
        return (
            Checkin.venue_id == venue_id,
            Checkin.eligible,
            Checkin.created_at <= now,
            Checkin.effective_at >= start,
            Checkin.effective_at <= end,
        )

    nearby = select(Checkin.user_id).distinct().where(*around(at - 2 * window, at + 2 * window))
    enough = select(func.count()).select_from(nearby.limit(threshold).subquery())
    other = aliased(Checkin)
    people = (
        select(func.count(Checkin.user_id.distinct()).label("people"))
        .where(*around(other.effective_at - window, other.effective_at + window))
        .lateral("people")
    )
    return (
        select(other.user_id, other.id, other.effective_at, people.c.people)
        .ext(distinct_on(other.user_id))
        .join(people, people.c.people >= threshold)
        .where(
            enough.scalar_subquery() >= threshold,
            other.venue_id == venue_id,
            other.eligible,
            other.created_at <= now,
            other.effective_at >= at - window,
            other.effective_at <= at + window,
            (other.user_id != user_id) | (other.id == checkin_id),
            ~select(UserBadge.user_id)
            .where(
                UserBadge.user_id == other.user_id,
                UserBadge.badge.in_([b.key for b in CROWDS]),
            )
            .exists(),
        )
        .order_by(other.user_id, other.id)
    )


def crowd(ctx: Context) -> list[dict]:
    """When this check-in makes (or joins) a crowd: Crowd to everyone in it who lacks it,
    each for their own check-in; returns the person's own new badges."""
    rows = (
        ctx.db_session.connection()
        .execute(
            _crowd_statement(),
            {
                "at": ctx.checkin.effective_at,
                "now": ctx.now,
                "venue_id": ctx.checkin.venue_id,
                "user_id": ctx.user_id,
                "id": ctx.checkin.id,
            },
        )
        .all()
    )
    mine = []
    for row in rows:
        them = Context(ctx.db_session, row.user_id, ctx.now, row, ctx.venue, {"crowd": row.people})
        new = evaluate(them, moved_by({Fact.CROWD}), have=set())
        if row.user_id == ctx.user_id:
            mine += new
    return mine


def view(badge: Badge, level: int) -> dict:
    """A badge as the API shows it."""
    return {"key": badge.key, "name": badge.name, "level": level, "description": badge.description}
