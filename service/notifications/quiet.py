"""A recipient's clock: local day and quiet hours in their own time zone (pure)."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo


def local_day(at: datetime, zone: str) -> date:
    """The date at ``at`` in ``zone`` (the day a daily cap counts in)."""
    return at.astimezone(ZoneInfo(zone)).date()


def in_quiet_hours(at: datetime, zone: str, start: time | None, end: time | None) -> bool:
    """True when ``at``, read in ``zone``, falls in ``[start, end)``; the window may wrap
    past midnight (22:00-07:00). No window (None) is never quiet."""
    if start is None or end is None:
        return False
    local = at.astimezone(ZoneInfo(zone)).time().replace(tzinfo=None)
    if start <= end:
        return start <= local < end
    return local >= start or local < end
