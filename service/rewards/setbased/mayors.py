"""Mayorships replayed in memory with ``rewards.mayorship``'s own pure rules (``decide``,
``settle``, ``expiry``): the visit days, each venue's mayor, the changes, and the
re-decisions due when a mayor's oldest counted day leaves the window."""

import heapq
from bisect import bisect_right, insort
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime

from service.common.ids import MAX_ID
from service.rewards import mayorship
from service.rewards.mayorship import WINDOW, Step


class Mayors:
    """Every venue's visit days and mayor; ``on_new_mayor(user, at)`` pays someone who
    became mayor at a re-decision."""

    def __init__(self, zones: dict, staff: dict, on_new_mayor: Callable[[int, datetime], None]):
        self.zones, self.staff, self.on_new_mayor = zones, staff, on_new_mayor
        self.rows: set[tuple[int, int, date]] = set()
        self.counted: dict[int, list[tuple[date, int]]] = defaultdict(list)
        self.current: dict[int, list] = {}  # venue -> [user, days, since, expires_at]
        self.changes: list[tuple] = []  # (venue, previous, user, days, at, checkin)
        self.became: dict[int, list[datetime]] = defaultdict(list)
        self._due: list[tuple[datetime, int]] = []

    def add_day(self, venue_id: int, user_id: int, day: date) -> bool:
        """Store a visit day; whether it is new. Staff days are stored, not counted."""
        if (venue_id, user_id, day) in self.rows:
            return False
        self.rows.add((venue_id, user_id, day))
        excluded = self.staff.get((venue_id, user_id), date.max)
        if not (excluded is None or day >= excluded):
            insort(self.counted[venue_id], (day, user_id))
        return True

    def visit_days(self, venue_id: int, after: date, until: date) -> dict[int, list[date]]:
        """Each person's counted days at the venue in (after, until]."""
        rows = self.counted[venue_id]
        days: dict[int, list[date]] = defaultdict(list)
        start, end = bisect_right(rows, (after, MAX_ID)), bisect_right(rows, (until, MAX_ID))
        for day, user in rows[start:end]:
            days[user].append(day)
        return days

    def times_mayor(self, user_id: int, now: datetime) -> int:
        """Changes that made the person mayor, by ``now``."""
        return sum(1 for at in self.became[user_id] if at <= now)

    def evaluate(self, venue_id: int, today: date, arriving: int, now: datetime, checkin_id):
        """``mayorship.evaluate``: ``(previous, mayor, days)``, the decision recorded."""
        current = self.current.get(venue_id)
        previous = current[0] if current else None
        rows = self.counted[venue_id]
        start, end = (
            bisect_right(rows, (today - WINDOW, MAX_ID)),
            bisect_right(rows, (today, MAX_ID)),
        )
        standing: dict[int, list] = {}
        for day, user in rows[start:end]:  # by day: a person's first is their oldest
            if user in standing:
                standing[user][0] += 1
            else:
                standing[user] = [1, day]
        mayor = mayorship.decide(
            {user: days for user, (days, _) in standing.items()}, previous, arriving
        )
        days, expires_at = 0, None
        if mayor is not None:
            days, oldest = standing[mayor]
            expires_at = mayorship.expiry(oldest, self.zones[venue_id])
        step = Step(now, today, previous, mayor, days, expires_at)
        self._record(venue_id, step, checkin_id if mayor == arriving else None)
        return previous, mayor, days

    def _record(self, venue_id: int, step: Step, checkin_id: int | None = None) -> None:
        """``mayorship.record``."""
        current = self.current.get(venue_id)
        if step.mayor == step.previous:  # the common case: no change to log
            if current is not None:
                if current[3] != step.expires_at:  # else its entry in ``_due`` still holds
                    heapq.heappush(self._due, (step.expires_at, venue_id))
                current[1], current[3] = step.days, step.expires_at
            return
        if step.mayor is None:
            del self.current[venue_id]
        else:
            since = step.at
            self.current[venue_id] = [step.mayor, step.days, since, step.expires_at]
            heapq.heappush(self._due, (step.expires_at, venue_id))
            self.became[step.mayor].append(step.at)
        self.changes.append((venue_id, step.previous, step.mayor, step.days, step.at, checkin_id))

    def expire_due(self, now: datetime) -> None:
        """``expiry.expire_due``: settle every venue due by ``now``, oldest first."""
        while self._due and self._due[0][0] <= now:
            expires_at, venue_id = heapq.heappop(self._due)
            current = self.current.get(venue_id)
            if current is None or current[3] != expires_at:
                continue  # superseded
            self._settle(venue_id, current, now)

    def _settle(self, venue_id: int, current: list, now: datetime) -> None:
        zone = self.zones[venue_id]
        first_day = mayorship.local_day(current[3], zone)
        days = self.visit_days(venue_id, first_day - WINDOW, mayorship.local_day(now, zone))
        for step in mayorship.settle(days, current[0], current[3], zone, now):
            self._record(venue_id, step)
            if step.mayor is not None and step.mayor != step.previous:
                self.on_new_mayor(step.mayor, step.at)
