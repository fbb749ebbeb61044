"""Evaluate the catalogue for a user and award what is due, exactly once.

``user_badges``' primary key (user, badge, level) is the guarantee: an award is an
INSERT ... ON CONFLICT DO NOTHING, so racing check-ins can never award twice.
"""

from bisect import bisect_left, bisect_right
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import BigInteger, DateTime, Integer, String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session

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


class InCrowd(NamedTuple):
    """A check-in in a crowd: whose, which, when, and how many people the crowd has."""

    user_id: int
    id: int
    effective_at: datetime
    people: int


def _crowd_rule() -> tuple[timedelta, int]:
    """The Crowd window and the fewest people that make a crowd."""
    badge = CROWDS[0]
    return timedelta(hours=badge.params["window_hours"]), min(badge.levels)


@lru_cache(maxsize=1)
def _crowd_statement():
    """The eligible check-ins at a venue that existed at ``now`` within twice the Crowd
    window of ``at``: all a crowd around ``at`` is made of; built once. The venue's
    check-ins alone, no join (on Citus they lie on every person's shard: a fan-out),
    through ``ix_checkins_venue_effective``."""
    window, _ = _crowd_rule()
    at = bindparam("at", type_=DateTime(timezone=True))
    return select(Checkin.user_id, Checkin.id, Checkin.effective_at).where(
        Checkin.venue_id == bindparam("venue_id", type_=BigInteger),
        Checkin.eligible,
        Checkin.created_at <= bindparam("now", type_=DateTime(timezone=True)),
        Checkin.effective_at >= at - 2 * window,
        Checkin.effective_at <= at + 2 * window,
    )


@lru_cache(maxsize=1)
def _crowd_holders_statement():
    """Which of the given people hold a Crowd badge; built once."""
    return (
        select(UserBadge.user_id)
        .distinct()
        .where(
            UserBadge.user_id == any_(bindparam("people", type_=ARRAY(BigInteger))),
            UserBadge.badge.in_([b.key for b in CROWDS]),
        )
    )


def crowd_candidates(rows, *, user_id: int, checkin_id: int, at: datetime) -> list:
    """Of the check-ins ``rows`` (``_crowd_statement``'s), those within the window of
    ``at`` that may join this check-in's crowd: the person's only as this one, everyone
    else's any of theirs; none when fewer people than a crowd checked in at all."""
    window, threshold = _crowd_rule()
    if len({row.user_id for row in rows}) < threshold:
        return []
    return [
        row
        for row in rows
        if at - window <= row.effective_at <= at + window
        and (row.user_id != user_id or row.id == checkin_id)
    ]


def in_crowd(rows, candidates, lacking: set[int]) -> list[InCrowd]:
    """Each person in ``lacking`` with their first check-in (by id) of ``candidates`` that
    has a crowd around it: at least the threshold of people in ``rows`` within the
    window of it; by person."""
    window, threshold = _crowd_rule()
    times = sorted((row.effective_at, row.user_id) for row in rows)
    starts = [at for at, _ in times]
    chosen: dict[int, InCrowd] = {}
    for row in sorted(candidates, key=lambda row: (row.user_id, row.id)):
        if row.user_id not in lacking or row.user_id in chosen:
            continue
        low = bisect_left(starts, row.effective_at - window)
        high = bisect_right(starts, row.effective_at + window)
        people = len({who for _, who in times[low:high]})
        if people >= threshold:
            chosen[row.user_id] = InCrowd(row.user_id, row.id, row.effective_at, people)
    return [chosen[person] for person in sorted(chosen)]


def crowd(ctx: Context) -> list[dict]:
    """When this check-in makes (or joins) a crowd: Crowd to everyone in it who lacks it,
    each for their own check-in; returns the person's own new badges.

    One statement reads the venue's check-ins around it (enough for the common case, no
    crowd), a second which of the people in a possible crowd already hold the badge."""
    connection = ctx.db_session.connection()
    rows = connection.execute(
        _crowd_statement(),
        {"at": ctx.checkin.effective_at, "now": ctx.now, "venue_id": ctx.checkin.venue_id},
    ).all()
    candidates = crowd_candidates(
        rows, user_id=ctx.user_id, checkin_id=ctx.checkin.id, at=ctx.checkin.effective_at
    )
    if not candidates:
        return []
    people = sorted({row.user_id for row in candidates})
    holders = set(connection.execute(_crowd_holders_statement(), {"people": people}).scalars())
    mine = []
    for row in in_crowd(rows, candidates, set(people) - holders):
        them = Context(ctx.db_session, row.user_id, ctx.now, row, ctx.venue, {"crowd": row.people})
        new = evaluate(them, moved_by({Fact.CROWD}), have=set())
        if row.user_id == ctx.user_id:
            mine += new
    return mine


def view(badge: Badge, level: int) -> dict:
    """A badge as the API shows it."""
    return {"key": badge.key, "name": badge.name, "level": level, "description": badge.description}
