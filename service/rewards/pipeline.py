"""The rewards of one eligible check-in, in one place: the visit's points and mayorship,
the meetings it completed, the badges everything moved — for the person and for whoever
else the check-in moved — and the person's ledger, written once.

``checkins.service.check_in`` and ``recompute-rewards`` both call ``reward``; they differ
only in where meetings come from (``find_meetings``: detected live, or the ones history
recorded). The points policy is passed in.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlalchemy.orm import Session

from service.meetings.detect import Met
from service.models import Checkin, User, Venue, VenueMayor
from service.rewards import award, badges
from service.rewards.ledger import Ledger, credit
from service.rewards.policy import PointsPolicy
from service.rewards.rules import Around, Context, Fact, moved_by

FindMeetings = Callable[[Ledger], list[Met]]


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
        "user": {"handle": met.handle, "display_name": met.display_name},
        "user_id": met.other_id,
    }


def reward(
    *,
    db_session: Session,
    user: User,
    checkin: Checkin,
    venue: Venue,
    ledger: Ledger,
    policy: PointsPolicy,
    find_meetings: FindMeetings,
    organiser_id: int | None = None,
    have: set[tuple[str, int]] | None = None,
    around: Around | None = None,
    mayor: VenueMayor | bool | None = False,
) -> Rewards:
    """Award an eligible check-in; the person's lines stay in ``ledger`` for the caller
    to write with the rest of the user's row (``write``). What the caller already read
    saves round trips: ``have`` (the person's badges), ``around`` (their check-ins around
    this one), ``mayor`` (the venue's mayor row; False: not read)."""
    now = ledger.now
    if have is None:
        have = badges.held(db_session, user.id)
    done = award.visit(
        db_session=db_session,
        user=user,
        checkin=checkin,
        venue=venue,
        ledger=ledger,
        policy=policy,
        around=around,
        mayor=mayor,
    )
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


def write(db_session: Session, ledger: Ledger, counters: dict[str, int], **values) -> None:
    """The person's ledger lines, then their row's totals and counters in one increment
    (never a copy read earlier written back: others may have credited them in this
    transaction); ``values``: more columns of the row to set."""
    ledger.write(db_session)
    steps = {name: getattr(User, name) + step for name, step in counters.items() if step}
    db_session.execute(
        update(User)
        .where(User.id == ledger.user_id)
        .values(points=User.points + ledger.total, **steps, **values)
    )
