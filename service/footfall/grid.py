"""The buckets of a stats range, in a time zone (pure).

Ranges are local dates, both ends included. Day buckets start at local midnight and
week buckets on Mondays (a week range is widened to whole weeks); hour buckets are the
local hours, so a spring-forward day has 23 and a fall-back day 25, each labelled with
the UTC offset in force.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

GRANULARITIES = ("hour", "day", "week")
MAX_DAYS = {"hour": 31, "day": 731, "week": 1099}


@dataclass(frozen=True)
class Range:
    """``first``..``last`` (local dates, inclusive) in ``zone`` at ``granularity``."""

    first: date
    last: date
    zone: str
    granularity: str

    @property
    def start(self) -> datetime:
        """The instant the range starts (UTC)."""
        return midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """The instant after the range ends (UTC)."""
        return midnight(self.last + timedelta(days=1), self.zone)


def midnight(day: date, zone: str) -> datetime:
    """The first instant of ``day`` in ``zone``, as UTC."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def today_in(now: datetime, zone: str) -> date:
    """The local date of ``now`` in ``zone``."""
    return now.astimezone(ZoneInfo(zone)).date()


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def make_range(first: date, last: date, zone: str, granularity: str) -> Range:
    """Validate and normalise a range; ``ValueError`` says what is wrong."""
    if first > last:
        raise ValueError("from must not be after to.")
    if granularity == "week":
        first, last = week_start(first), week_start(last) + timedelta(days=6)
    days = (last - first).days + 1
    if days > MAX_DAYS[granularity]:
        raise ValueError(
            f"At most {MAX_DAYS[granularity]} days at {granularity} granularity; "
            "choose a shorter range or a coarser granularity."
        )
    return Range(first, last, zone, granularity)


def bucket_keys(span: Range) -> list:
    """Every bucket of the range, in order: UTC hour starts, dates, or Mondays."""
    if span.granularity == "day":
        return [span.first + timedelta(days=n) for n in range((span.last - span.first).days + 1)]
    if span.granularity == "week":
        return [
            span.first + timedelta(weeks=n) for n in range((span.last - span.first).days // 7 + 1)
        ]
    zone = ZoneInfo(span.zone)
    keys, at = [], span.start
    while at < span.end:
        local = at.astimezone(zone)
        start = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        if not keys or keys[-1] != start:
            keys.append(start)
        at = start + timedelta(hours=1)
    return keys


def label(key, zone: str) -> str:
    """A bucket's start as RFC 3339 in ``zone`` (with its offset)."""
    if isinstance(key, datetime):
        return key.astimezone(ZoneInfo(zone)).isoformat()
    return midnight(key, zone).astimezone(ZoneInfo(zone)).isoformat()
