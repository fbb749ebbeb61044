"""Badges replayed in memory: the catalogue evaluated as ``rewards.badges.evaluate``
does, each rule kind measured from the visible history as its query in
``rewards.rules`` would count it as of ``now`` (``MEASURES`` has one per kind)."""

from bisect import bisect_right
from collections import defaultdict
from datetime import datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from service.rewards.badges import CAPS, measure_key
from service.rewards.catalogue import CATALOGUE
from service.rewards.streaks import repeats

BY_KIND: dict[str, list] = defaultdict(list)
for _badge in CATALOGUE:
    BY_KIND[_badge.kind].append((_badge, measure_key(_badge)))


class Moment(NamedTuple):
    """Whose badges, when, and the check-in being rewarded (None: someone it moved)."""

    user_id: int
    now: datetime
    checkin: object = None
    known: dict | None = None


def _met_timeline(rows: list) -> tuple[list, list, list]:
    """A person's meetings as created: times, different contacts met by then, and the
    most different contacts met at one event by then."""
    times, contacts, at_event = [], [], []
    others, per_event, best = set(), defaultdict(set), 0
    for created_at, other, event in rows:
        others.add(other)
        if event is not None:
            per_event[event].add(other)
            best = max(best, len(per_event[event]))
        times.append(created_at)
        contacts.append(len(others))
        at_event.append(best)
    return times, contacts, at_event


class Awards:
    """The badges held and awarded; ``replay`` gives the measures their history."""

    def __init__(self, replay):
        self.replay = replay
        self.held: dict[int, set[tuple[str, int]]] = defaultdict(set)
        self.rows: list[tuple] = []  # (user, badge, level, awarded_at, checkin)
        self.met = {user: _met_timeline(rows) for user, rows in replay.history.met.items()}
        self._hour: tuple[int | None, int] = (None, 0)
        self.events_of: dict[int, list[int]] = defaultdict(list)
        for event, organiser in replay.history.organisers.items():
            self.events_of[organiser].append(event)

    def evaluate(self, moment: Moment, kinds: frozenset[str]) -> None:
        """``badges.evaluate``: award every level of these kinds now reached."""
        if not kinds:
            return
        have = self.held[moment.user_id]
        measured: dict[tuple, int] = {}
        for badge, key in (badge for kind in kinds for badge in BY_KIND.get(kind, ())):
            missing = [
                (level, threshold)
                for level, threshold in enumerate(badge.levels, 1)
                if (badge.key, level) not in have
            ]
            if not missing:
                continue
            value = (moment.known or {}).get(badge.kind)
            if value is None:
                if key not in measured:
                    value = MEASURES[badge.kind](self, moment, badge.params)
                    measured[key] = min(value, CAPS[key])
                value = measured[key]
            for level, threshold in missing:
                if value >= threshold:
                    have.add((badge.key, level))
                    checkin_id = moment.checkin.id if moment.checkin is not None else None
                    self.rows.append((moment.user_id, badge.key, level, moment.now, checkin_id))

    def _met_by(self, moment: Moment, column: int) -> int:
        timeline = self.met.get(moment.user_id)
        if timeline is None:
            return 0
        made = bisect_right(timeline[0], moment.now)  # ``Meeting.created_at <= now``
        return timeline[column][made - 1] if made else 0

    def contacts_met(self, moment: Moment, params: dict) -> int:
        """``rules.contacts_met``."""
        return self._met_by(moment, 1)

    def contacts_met_at_event(self, moment: Moment, params: dict) -> int:
        """``rules.contacts_met_at_event``."""
        return self._met_by(moment, 2)

    def same_venue_repeats(self, moment: Moment, params: dict) -> int:
        """``rules.same_venue_repeats``."""
        checkin = moment.checkin
        if checkin is None:
            return 0
        window = timedelta(days=params["window_days"])
        at = checkin.effective_at
        times = self.replay.visible.times_at(moment.user_id, checkin.venue_id, at, window)
        return repeats(times, at, window)

    def events_attended(self, moment: Moment, params: dict) -> int:
        """``rules.events_attended``."""
        if moment.checkin is None:
            return 0
        window = timedelta(days=params["window_days"])
        return self.replay.visible.events_within(
            moment.user_id, moment.checkin.effective_at, window
        )

    def local_hour(self, moment: Moment, params: dict) -> int:
        """``rules.local_hour``."""
        checkin = moment.checkin
        if checkin is None:
            return 0
        if self._hour[0] != checkin.id:  # both hour badges ask about the same check-in
            zone = ZoneInfo(self.replay.history.zones[checkin.venue_id])
            self._hour = (checkin.id, checkin.effective_at.astimezone(zone).hour)
        return int(params["from_hour"] <= self._hour[1] < params["to_hour"])

    def hosted_event_checkins(self, moment: Moment, params: dict) -> int:
        """``rules.hosted_event_checkins``."""
        people = self.replay.visible.event_people
        return max(
            (len(people[event] - {moment.user_id}) for event in self.events_of[moment.user_id]),
            default=0,
        )

    def mayorships(self, moment: Moment, params: dict) -> int:
        """``rules.mayorships``."""
        return self.replay.mayors.times_mayor(moment.user_id, moment.now)

    def counter(self, moment: Moment, params: dict) -> int:
        """The kinds a check-in always knows (``Context.known``); zero otherwise."""
        return 0


MEASURES = {
    "checkins": Awards.counter,
    "distinct_venues": Awards.counter,
    "distinct_cities": Awards.counter,
    "streak": Awards.counter,
    "crowd": Awards.counter,
    "same_venue_repeats": Awards.same_venue_repeats,
    "contacts_met": Awards.contacts_met,
    "contacts_met_at_event": Awards.contacts_met_at_event,
    "events_attended": Awards.events_attended,
    "local_hour": Awards.local_hour,
    "hosted_event_checkins": Awards.hosted_event_checkins,
    "mayorships": Awards.mayorships,
}
