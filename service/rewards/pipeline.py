"""The rewards of one eligible check-in, in one place: the visit's points and mayorship,
the meetings it completed, the badges everything moved — for the person and for whoever
else the check-in moved — and the person's ledger, written once.

``checkins.service.check_in`` and ``recompute-rewards`` both call ``reward``; they differ
only in where meetings come from (``find_meetings``: detected live, or the ones history
recorded). The points policy is passed in.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    String,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from service.common.people import person
from service.meetings.detect import Met
from service.models import Checkin, PointsEntry, User, Venue, VenueMayor
from service.presence import seen
from service.rewards import award, badges
from service.rewards.ledger import Ledger, add_to_checkin, credit
from service.rewards.policy import PointsPolicy
from service.rewards.rules import Around, Context, Fact, moved_by

FindMeetings = Callable[[Ledger], list[Met]]
# The facts this pipeline reports to the rules: the visit's (``award.visit``), the
# meetings' and the organiser's (``reward``), a crowd's (``badges.crowd``). A rule that
# moves only on facts outside this set could never fire (a unit test holds it).
EMITTED = frozenset(
    {
        Fact.CHECKIN,
        Fact.FIRST_VISIT,
        Fact.REVISIT,
        Fact.NEW_CITY,
        Fact.NEW_DAY,
        Fact.EVENT_CHECKIN,
        Fact.NEW_MAYORSHIP,
        Fact.MET,
        Fact.MET_AT_EVENT,
        Fact.HOSTED_CHECKIN,
        Fact.CROWD,
    }
)


@dataclass(frozen=True)
class Arrival:
    """The eligible check-in being rewarded: whose, where, the person's ledger (which
    also says when) and the points policy; in the session it is written through."""

    db_session: Session
    user: User
    checkin: Checkin
    venue: Venue
    ledger: Ledger
    policy: PointsPolicy

    def parts(self) -> tuple[Session, User, Checkin, Venue, Ledger, PointsPolicy]:
        """Every field, in order, to unpack in one line (``astuple`` would copy them)."""
        return self.db_session, self.user, self.checkin, self.venue, self.ledger, self.policy


@dataclass
class Rewards:
    """What a check-in earned: the person's points on it, new badges, the mayorship, the
    meetings (as the API shows them), and the facts it changed."""

    points: int = 0
    badges: list[dict] = field(default_factory=list)
    mayorship: dict | None = None
    meetings: list[dict] = field(default_factory=list)
    facts: frozenset[Fact] = frozenset()
    counters: dict[str, int] = field(default_factory=dict)


def credit_meeting(db_session: Session, ledger: Ledger, met: Met, policy: PointsPolicy) -> dict:
    """Both sides' points for a meeting (the only place they are credited); the meeting
    as the API shows it."""
    reason, points = policy.for_meeting(met.first)
    ledger.add(reason, points)
    credit(db_session, met.other_id, points, reason, ledger.now, met.other_checkin_id)
    return {
        "meeting_id": met.meeting_id,
        "first_time": met.first,
        "replaces_first_meeting_id": met.moved_from,
        "points": points,
        "user": person(met.handle, met.display_name),
        "user_id": met.other_id,
    }


def reward(
    arrival: Arrival,
    *,
    find_meetings: FindMeetings,
    organiser_id: int | None = None,
    have: set[tuple[str, int]] | None = None,
    around: Around | None = None,
    mayor: VenueMayor | None,
) -> Rewards:
    """Award an eligible check-in; the person's lines stay in its ledger for the caller
    to write with the rest of the user's row (``write``). What the caller already read
    saves round trips: ``have`` (the person's badges), ``around`` (their check-ins around
    this one); ``mayor``: the venue's mayor row (None: it has none)."""
    db_session, user, checkin, venue, ledger, policy = arrival.parts()
    now = ledger.now
    if have is None:
        have = badges.held(db_session, user.id)
    done = award.visit(arrival, around=around, mayor=mayor)
    met = find_meetings(ledger)
    meetings = [credit_meeting(db_session, ledger, one, policy) for one in met]
    social = {Fact.MET} if met else set()
    if any(one.at_event for one in met):
        social.add(Fact.MET_AT_EVENT)
    facts = frozenset(done.facts | social)
    mine = badges.evaluate(
        Context(db_session, user.id, now, checkin, venue, done.known, around),
        moved_by(facts),
        have,
    )
    for one in met:
        theirs = {Fact.MET, Fact.MET_AT_EVENT} if one.at_event else {Fact.MET}
        badges.evaluate(Context(db_session, one.other_id, now), moved_by(theirs))
    if done.new_mayor is not None:
        badges.evaluate(Context(db_session, done.new_mayor, now), moved_by({Fact.NEW_MAYORSHIP}))
    if organiser_id is not None and organiser_id != user.id:
        badges.evaluate(Context(db_session, organiser_id, now), moved_by({Fact.HOSTED_CHECKIN}))
    mine += badges.crowd(Context(db_session, user.id, now, checkin, venue))
    return Rewards(
        points=ledger.earned,
        badges=mine,
        mayorship=done.mayorship,
        meetings=meetings,
        facts=facts,
        counters={
            "eligible_checkins": 1,
            "venues_visited": done.venues_added,
            "cities_visited": done.cities_added,
        },
    )


COUNTERS = ("eligible_checkins", "venues_visited", "cities_visited")


@lru_cache(maxsize=1)
def _write_statement():
    """The person's ledger lines, their check-in's points, and their row's totals,
    counters, last time zone and latest seen check-in, in one statement; built once.
    (Parameters are named ``p_*``: a parameter named like a column would become one more
    SET.)"""
    user_id = bindparam("p_user", type_=BigInteger)
    given = (
        func.unnest(
            bindparam("p_checkins", type_=ARRAY(BigInteger)),
            bindparam("p_reasons", type_=ARRAY(String)),
            bindparam("p_points", type_=ARRAY(Integer)),
        )
        .table_valued("checkin_id", "reason", "points")
        .render_derived()
    )
    ledger = PointsEntry.__table__
    lines = (
        insert(ledger)
        .from_select(
            ["user_id", "checkin_id", "reason", "points", "created_at"],
            select(
                user_id,
                given.c.checkin_id,
                given.c.reason,
                given.c.points,
                bindparam("p_now", type_=DateTime(timezone=True)),
            ),
        )
        .cte("lines")
    )
    checkin = (
        update(Checkin.__table__)
        .where(Checkin.user_id == user_id, Checkin.id == bindparam("p_checkin", BigInteger))
        .values(points=Checkin.points + bindparam("p_earned", type_=Integer))
        .cte("checkin")
    )
    users = User.__table__
    steps = {name: users.c[name] + bindparam(f"p_{name}", type_=Integer) for name in COUNTERS}
    return (
        update(users)
        .where(users.c.id == user_id)
        .values(
            points=users.c.points + bindparam("p_total", type_=Integer),
            checkin_count=users.c.checkin_count + bindparam("p_checkin_count", type_=Integer),
            last_timezone=func.coalesce(bindparam("p_zone", type_=String), users.c.last_timezone),
            **steps,
            **seen.kept_values(users),
        )
        .add_cte(lines)
        .add_cte(checkin)
    )


def write(
    db_session: Session,
    ledger: Ledger,
    counters: dict[str, int],
    *,
    checkin_count: int = 0,
    zone: str | None = None,
    last_seen: dict = seen.NOTHING,
) -> None:
    """The person's ledger lines, then their row's totals and counters, in one increment
    (never a copy read earlier written back: others may have credited them in this
    transaction); ``checkin_count``: check-ins to count, ``zone``: their last time zone,
    ``last_seen``: where contacts last saw them, if this check-in is it (``seen.params``).
    A correction on an earlier check-in of theirs (a first meeting that moved) moves
    that check-in's points too."""
    earlier: dict[int, int] = {}
    for _, points, checkin in ledger.lines:
        if checkin != ledger.checkin_id:
            earlier[checkin] = earlier.get(checkin, 0) + points
    db_session.connection().execute(
        _write_statement(),
        {
            "p_user": ledger.user_id,
            "p_checkin": ledger.checkin_id,
            "p_checkins": [checkin for _, _, checkin in ledger.lines],
            "p_reasons": [reason for reason, _, _ in ledger.lines],
            "p_points": [points for _, points, _ in ledger.lines],
            "p_now": ledger.now,
            "p_earned": ledger.earned,
            "p_total": ledger.total,
            "p_checkin_count": checkin_count,
            "p_zone": zone,
            **{f"p_{name}": counters.get(name, 0) for name in COUNTERS},
            **last_seen,
        },
    )
    for checkin, points in earlier.items():
        add_to_checkin(db_session, ledger.user_id, checkin, points)
