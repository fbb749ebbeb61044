"""Events in space and time: filters over a ``tstzrange`` period column passed in."""

from sqlalchemy import ColumnElement, func

EVENT_SLACK_HOURS = 1


def overlaps(period_column, start, end) -> ColumnElement:
    """The period ``[starts_at, ends_at)`` overlaps ``[start, end)``; an event ending
    exactly at ``start`` does not. Served by a GiST index on (location, period)."""
    return period_column.op("&&")(func.tstzrange(start, end, "[)"))
