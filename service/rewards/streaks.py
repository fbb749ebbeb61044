"""Consecutive-day streaks and repeats within a window (pure)."""

from datetime import date, datetime, timedelta

BONUS_PER_DAY = 2
MAX_BONUS = 20


def streak_length(days: set[date], today: date) -> int:
    """How many consecutive days, ending today, have a check-in."""
    length = 0
    while today - timedelta(days=length) in days:
        length += 1
    return length


def streak_run(days: set[date], day: date) -> int:
    """How many consecutive days with a check-in the run through ``day`` has, before and
    after it (an offline replay that fills a gap joins the days after it at once)."""
    if day not in days:
        return 0
    after = 0
    while day + timedelta(days=after + 1) in days:
        after += 1
    return streak_length(days, day) + after


def streak_bonus(length: int, per_day: int = BONUS_PER_DAY, cap: int = MAX_BONUS) -> int:
    """+2 for each day the streak has lasted beyond its first, at most +20."""
    return min(per_day * max(length - 1, 0), cap)


def repeats(times: list[datetime], at: datetime, window: timedelta) -> int:
    """The most of ``times`` (sorted, ``at`` among them) spanning less than ``window``
    with ``at`` among them."""
    best = 0
    for index, start in enumerate(times):
        if start > at:
            break
        if at - start < window:
            best = max(best, sum(1 for moment in times[index:] if moment - start < window))
    return best
