"""Replay the eligible check-ins in arrival order in memory, as ``recompute._replay``
does through the database, with the same rules: ``award.visit``'s points and visit
rows, ``meetings.first.claim``'s first meetings, ``pipeline.reward``'s badges for the
person and for whoever the check-in moved, ``badges.crowd``, the mayorships and their
expiries. ``recompute`` reads the history once, replays it and writes the result once.
"""

from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy.orm import Session
from tqdm import tqdm

from service import clock
from service.meetings.first import MOVED
from service.presence import seen
from service.rewards import mayorship
from service.rewards.badges import CROWDS
from service.rewards.policy import PointsPolicy
from service.rewards.rules import Fact, moved_by
from service.rewards.setbased import history, write
from service.rewards.setbased.awards import Awards, Moment
from service.rewards.setbased.mayors import Mayors
from service.rewards.setbased.visible import Visible
from service.rewards.streaks import streak_bonus, streak_run

MOVED_BY: dict[frozenset, frozenset[str]] = {}


def moved(facts: set[Fact]) -> frozenset[str]:
    """``rules.moved_by``, remembered per set of facts."""
    key = frozenset(facts)
    if key not in MOVED_BY:
        MOVED_BY[key] = moved_by(key)
    return MOVED_BY[key]


STREAK_SPAN = 31  # ``rules.streak`` reads the days within 30 (its cap) + 1 either side


class Replay:
    """The rewards state, built one arrival at a time."""

    def __init__(self, past: history.History, policy: PointsPolicy):
        self.history, self.policy = past, policy
        self.visible = Visible()
        self.lines: list[tuple] = []  # (user, checkin, reason, points, created_at)
        self.venues: dict[tuple[int, int], tuple[int, datetime]] = {}
        self.cities: dict[tuple[int, str], tuple[int, datetime]] = {}
        self.counters: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
        self.firsts: dict[tuple[int, int], tuple[int, datetime]] = {}
        self.mayors = Mayors(past.zones, past.staff, self._paid_mayor)
        self.awards = Awards(self)

    def credit(self, user_id: int, points: int, reason: str, at: datetime, checkin_id) -> None:
        """``ledger.credit``."""
        self.lines.append((user_id, checkin_id, reason, points, at))

    def _paid_mayor(self, user_id: int, at: datetime) -> None:
        """A re-decision made someone mayor (``expiry.settle_venue``)."""
        self.credit(user_id, self.policy.mayorship, "mayorship", at, None)
        self.awards.evaluate(Moment(user_id, at), moved({Fact.NEW_MAYORSHIP}))

    def run(self, until: datetime, progress: bool) -> None:
        """Every arrival (each tie group of ``created_at`` visible at once, as
        ``created_at <= now`` sees it), then the expiries due by ``until``."""
        arrivals = self.history.arrivals
        seen_up_to = 0
        for index, row in enumerate(
            tqdm(arrivals, desc="rewards", unit="check-in", disable=not progress, mininterval=0.5)
        ):
            if index == seen_up_to:
                while (
                    seen_up_to < len(arrivals) and arrivals[seen_up_to].created_at == row.created_at
                ):
                    self.visible.add(arrivals[seen_up_to])
                    seen_up_to += 1
            self.arrive(row)
        self.mayors.expire_due(until)

    def arrive(self, row) -> None:
        """``pipeline.reward`` and ``pipeline.write`` of one eligible check-in."""
        now, policy, user_id = row.created_at, self.policy, row.user_id
        self.mayors.expire_due(now)
        mine: list[tuple[str, int, int]] = []

        def add(reason: str, points: int, checkin_id: int = row.id) -> None:
            mine.append((reason, points, checkin_id))

        known, facts, new_mayor = self._visit(row, now, add)
        met = self.history.found_at.get((user_id, row.id), ())
        for meeting in met:
            reason, points = policy.for_meeting(self._claim(row, meeting, now, add))
            add(reason, points)
            self.credit(meeting.other_id, points, reason, now, meeting.other_checkin_id)
        if met:
            facts.add(Fact.MET)
        if any(meeting.event_id is not None for meeting in met):
            facts.add(Fact.MET_AT_EVENT)
        evaluate = self.awards.evaluate
        evaluate(Moment(user_id, now, row, known), moved(facts))
        for meeting in met:
            theirs = {Fact.MET, Fact.MET_AT_EVENT} if meeting.event_id is not None else {Fact.MET}
            evaluate(Moment(meeting.other_id, now), moved(theirs))
        if new_mayor is not None:
            evaluate(Moment(new_mayor, now), moved({Fact.NEW_MAYORSHIP}))
        organiser = self.history.organisers.get(row.event_id)
        if organiser is not None and organiser != user_id:
            evaluate(Moment(organiser, now), moved({Fact.HOSTED_CHECKIN}))
        self._crowd(row, now)
        self.lines.extend((user_id, checkin, why, points, now) for why, points, checkin in mine)

    def _visit(self, row, now: datetime, add) -> tuple[dict, set, int | None]:
        """``award.visit``: the visit's lines, facts and known numbers, and another user
        who became mayor."""
        policy, user_id, counters = self.policy, row.user_id, self.counters[row.user_id]
        add("checkin", policy.checkin)
        facts = {Fact.CHECKIN}
        venue_added = (user_id, row.venue_id) not in self.venues
        city = self.history.cities[row.venue_id]
        city_added = (user_id, city) not in self.cities
        self.venues.setdefault((user_id, row.venue_id), (row.id, now))
        self.cities.setdefault((user_id, city), (row.id, now))
        new_day = row.shared and self.mayors.add_day(row.venue_id, user_id, row.local_day)
        if venue_added:
            add("first_visit", policy.first_visit)
        facts.add(Fact.FIRST_VISIT if venue_added else Fact.REVISIT)
        if row.event_id is not None:
            add("event", policy.event)
            facts.add(Fact.EVENT_CHECKIN)
        if city_added:
            facts.add(Fact.NEW_CITY)
        known = {
            "checkins": counters[0] + 1,
            "distinct_venues": counters[1] + venue_added,
            "distinct_cities": counters[2] + city_added,
        }
        counters[0] += 1
        counters[1] += venue_added
        counters[2] += city_added
        if self.visible.only_today(user_id, row.local_day):
            facts.add(Fact.NEW_DAY)
            days = self.visible.days_around(user_id, row.local_day, STREAK_SPAN)
            known["streak"] = length = streak_run(days, row.local_day)
            bonus = streak_bonus(length, policy.streak_day, policy.streak_max)
            if bonus:
                add("streak", bonus)
        new_mayor = None
        if new_day:
            today = mayorship.local_day(now, self.history.zones[row.venue_id])
            previous, mayor, _ = self.mayors.evaluate(row.venue_id, today, user_id, now, row.id)
            if mayor == user_id and previous != user_id:
                add("mayorship", policy.mayorship)
                facts.add(Fact.NEW_MAYORSHIP)
            elif mayor is not None and mayor not in (user_id, previous):
                self.credit(mayor, policy.mayorship, "mayorship", now, None)
                new_mayor = mayor
        return known, facts, new_mayor

    def _claim(self, row, meeting, now: datetime, add) -> bool:
        """``meetings.first.claim``: whether the meeting is the pair's first; a first that
        moves here takes its bonus along (correcting lines on the earlier one's sides)."""
        pair = (min(row.user_id, meeting.other_id), max(row.user_id, meeting.other_id))
        prior = self.firsts.get(pair)
        if prior is not None and meeting.met_at >= prior[1]:
            return False
        if prior is not None:
            correction = self.policy.meeting - self.policy.first_meeting
            for side_user, side_checkin in self.history.sides[prior[0]]:
                if side_user == row.user_id:
                    add(MOVED, correction, side_checkin)
                elif side_user == meeting.other_id:
                    self.credit(side_user, correction, MOVED, now, side_checkin)
        self.firsts[pair] = (meeting.id, meeting.met_at)
        return True

    def _crowd(self, row, now: datetime) -> None:
        """``badges.crowd``: Crowd to everyone in a crowd this check-in makes or joins who
        lacks it, each for their own (earliest) check-in in it."""
        badge = CROWDS[0]
        window = timedelta(hours=badge.params["window_hours"])
        threshold = min(badge.levels)
        at, venue_id = row.effective_at, row.venue_id
        if self.visible.people_between(venue_id, at - 2 * window, at + 2 * window) < threshold:
            return
        keys = {crowd.key for crowd in CROWDS}
        chosen: dict[int, tuple[int, int]] = {}
        for effective_at, user_id, checkin_id in self.visible.venue_between(
            venue_id, at - window, at + window
        ):
            if user_id == row.user_id and checkin_id != row.id:
                continue
            if any(key in keys for key, _ in self.awards.held[user_id]):
                continue
            if user_id in chosen and chosen[user_id][0] < checkin_id:
                continue
            people = self.visible.people_between(
                venue_id, effective_at - window, effective_at + window
            )
            if people >= threshold:
                chosen[user_id] = (checkin_id, people)
        for user_id in sorted(chosen):
            checkin_id, people = chosen[user_id]
            self.awards.evaluate(
                Moment(user_id, now, SimpleNamespace(id=checkin_id), {"crowd": people}),
                moved({Fact.CROWD}),
            )


def recompute(
    *,
    db_session: Session,
    policy: PointsPolicy,
    progress: bool = True,
    meanwhile: Callable[[], None] | None = None,
) -> dict:
    """Rebuild every reward from the history (``recompute.recompute``'s result, in bulk);
    returns the eligible check-ins replayed and the points in total. ``meanwhile``: work
    for the database that needs none of this, run on the session's connection while the
    replay (Python alone, not touching the session) runs: the seed's footfall, so the
    machine's two cores work at once."""
    past = history.load(db_session)
    replay = Replay(past, policy)
    with _beside(meanwhile):
        replay.run(clock.now(), progress)
    write.store(db_session, replay)
    seen.rebuild(db_session)
    return {
        "checkins": len(past.arrivals),
        "points": sum(points for _, _, _, points, _ in replay.lines),
    }


@contextmanager
def _beside(work: Callable[[], None] | None):
    """Run ``work`` in a thread while the block runs; its error, if any, is raised after."""
    if work is None:
        yield
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        done = pool.submit(work)
        try:
            yield
        finally:
            done.result()
