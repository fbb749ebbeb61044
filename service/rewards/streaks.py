"""Consecutive-day streaks (pure)."""

from datetime import date, timedelta

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
