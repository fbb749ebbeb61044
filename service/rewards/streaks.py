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


def streak_bonus(length: int, per_day: int = BONUS_PER_DAY, cap: int = MAX_BONUS) -> int:
    """+2 for each day the streak has lasted beyond its first, at most +20."""
    return min(per_day * max(length - 1, 0), cap)
