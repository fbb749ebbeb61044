"""The eligible check-ins a rule may count at ``now`` (``created_at <= now``), indexed
the ways the rules count them: a person's days, their times at a venue, everyone's at a
venue, their event check-ins, each event's people."""

from bisect import bisect_left, bisect_right, insort
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from service.common.ids import MAX_ID


class Days:
    """Days of a person strictly between two dates (all ``streaks`` asks is ``in``)."""

    __slots__ = ("after", "before", "days")

    def __init__(self, days: Counter, after: date, before: date):
        self.days, self.after, self.before = days, after, before

    def __contains__(self, day: date) -> bool:
        return self.after < day < self.before and day in self.days


class Visible:
    """What a rule sees as of the arrival being replayed (its whole tie group added)."""

    def __init__(self):
        self.days: dict[int, Counter] = defaultdict(Counter)
        self.venue_times: dict[tuple[int, int], list[datetime]] = defaultdict(list)
        self.at_venue: dict[int, list[tuple[datetime, int, int]]] = defaultdict(list)
        self.event_times: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
        self.event_people: dict[int, set[int]] = defaultdict(set)

    def add(self, row) -> None:
        """One more eligible check-in exists."""
        self.days[row.user_id][row.local_day] += 1
        insort(self.venue_times[(row.user_id, row.venue_id)], row.effective_at)
        insort(self.at_venue[row.venue_id], (row.effective_at, row.user_id, row.id))
        if row.event_id is not None:
            insort(self.event_times[row.user_id], (row.effective_at, row.event_id))
            self.event_people[row.event_id].add(row.user_id)

    def only_today(self, user_id: int, day: date) -> bool:
        """No other eligible check-in of the person that local day (``award._first_today``)."""
        return self.days[user_id][day] == 1

    def days_around(self, user_id: int, day: date, span: int) -> "Days":
        """The person's days within ``span`` days either side (exclusive), as ``rules.streak``
        reads them."""
        return Days(self.days[user_id], day - timedelta(days=span), day + timedelta(days=span))

    def times_at(self, user_id: int, venue_id: int, at: datetime, window: timedelta) -> list:
        """The person's times at the venue strictly within ``window`` of ``at``, sorted."""
        times = self.venue_times[(user_id, venue_id)]
        return times[bisect_right(times, at - window) : bisect_left(times, at + window)]

    def events_within(self, user_id: int, at: datetime, window: timedelta) -> int:
        """Different events the person checked in to in (at - window, at]."""
        times = self.event_times[user_id]
        lo = bisect_right(times, (at - window, MAX_ID))
        hi = bisect_right(times, (at, MAX_ID))
        return len({event for _, event in times[lo:hi]})

    def venue_between(self, venue_id: int, start: datetime, end: datetime) -> list:
        """Everyone's check-ins at the venue with ``start <= effective_at <= end``."""
        rows = self.at_venue[venue_id]
        return rows[bisect_left(rows, (start,)) : bisect_right(rows, (end, MAX_ID, MAX_ID))]

    def people_between(self, venue_id: int, start: datetime, end: datetime) -> int:
        """Different people among them."""
        return len({user for _, user, _ in self.venue_between(venue_id, start, end)})
