"""Footfall figures from the rollup: one index-only scan of the range, no DISTINCT.

A visit row is its visitor's first in a bucket when the visitor's previous visit lies
before the bucket: ``prev_day`` for days, weeks and the whole range (on the day's first
row), ``prev_cell_day`` for weekday-hour cells. Staff are left out here, at read time, so
changing the staff list changes the past too.
"""

from sqlalchemy import Date, Integer, and_, cast, func, or_, select, tuple_
from sqlalchemy.orm import Session

from service.footfall.figures import Counts, Figures
from service.footfall.grid import Range
from service.models import VenueStaff, VenueVisit

V = VenueVisit


def _week(day_column, weekday_column):
    return cast(day_column - cast(weekday_column, Integer), Date)


def _bucket(granularity: str):
    if granularity == "hour":
        return V.hour_start
    if granularity == "day":
        return V.local_day
    return _week(V.local_day, V.weekday)


def figures(db_session: Session, venue_id: int, span: Range) -> Figures:
    """Totals, buckets and weekday-hour cells of ``span`` (the venue's own time zone)."""
    bucket = _bucket(span.granularity).label("bucket")
    first_since = lambda since: and_(  # noqa: E731
        V.first_of_day, or_(V.prev_day.is_(None), V.prev_day < since)
    )
    staff = select(VenueStaff.user_id).where(VenueStaff.venue_id == venue_id)
    rows = db_session.execute(
        select(
            func.grouping(bucket, V.weekday, V.local_hour).label("set"),
            bucket,
            V.weekday,
            V.local_hour,
            func.sum(V.checkins).label("checkins"),
            func.count().label("rows"),
            func.count().filter(first_since(span.first)).label("in_range"),
            func.count().filter(V.first_of_day).label("days"),
            func.count().filter(first_since(_week(V.local_day, V.weekday))).label("weeks"),
            func.count().filter(and_(V.first_of_day, V.prev_day.is_(None))).label("new"),
            func.count()
            .filter(or_(V.prev_cell_day.is_(None), V.prev_cell_day < span.first))
            .label("cells"),
        )
        .where(
            V.venue_id == venue_id,
            V.hour_start >= span.start,
            V.hour_start < span.end,
            V.user_id.not_in(staff),
        )
        .group_by(func.grouping_sets(tuple_(), tuple_(bucket), tuple_(V.weekday, V.local_hour)))
    ).all()
    visitors_of_bucket = {"hour": "rows", "day": "days", "week": "weeks"}[span.granularity]
    result = Figures()
    for row in rows:
        if row.set == 0b111:  # (): the whole range
            result.total = Counts(row.checkins, row.in_range, row.new)
        elif row.set == 0b011:  # (bucket)
            result.buckets[row.bucket] = Counts(
                row.checkins, getattr(row, visitors_of_bucket), row.new
            )
        else:  # (weekday, hour)
            result.cells[(row.weekday, row.local_hour)] = Counts(row.checkins, row.cells)
    return result
