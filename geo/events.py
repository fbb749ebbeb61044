"""Events in space and time: when a check-in counts for an event, and filters over a
``tstzrange`` period column passed in."""

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func

# event check-ins count from an hour before the event starts to an hour after it ends
EVENT_SLACK = timedelta(hours=1)


def on_time(starts_at: datetime, ends_at: datetime, at: datetime) -> bool:
    """``at`` lies within ``[starts_at, ends_at]`` give or take ``EVENT_SLACK``."""
    return starts_at - EVENT_SLACK <= at <= ends_at + EVENT_SLACK


def overlaps(period_column, start, end) -> ColumnElement:
    """The period ``[starts_at, ends_at)`` overlaps ``[start, end)``; an event ending
    exactly at ``start`` does not. Served by a GiST index on (location, period)."""
    return period_column.op("&&")(func.tstzrange(start, end, "[)"))
