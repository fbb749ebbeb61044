"""Footfall figures straight from the check-ins, in any time zone.

The reference the rollup is tested against, and the path for a ``tz`` other than the
venue's (the rollup's days and hours are the venue's own). Same rules: only check-ins
that count as footfall, accepted staff left out from the first hour (the venue's own)
after they accepted (``staff.py``), a visitor new in a bucket when their first counted
check-in here ever falls in it.
"""

from sqlalchemy import Date, Integer, and_, cast, extract, func, select, tuple_
from sqlalchemy.orm import Session

from service.common.plans import planned_per_call
from service.footfall.figures import THRESHOLD, Counts, Figures
from service.footfall.grid import Range
from service.footfall.rollup import counts_sql
from service.footfall.staff import accepted_since, excluded_by
from service.models import Checkin, Venue


def _counted(venue_id: int, staff: dict):
    venue_zone = select(Venue.timezone).where(Venue.id == venue_id).scalar_subquery()
    hour_start = _local_parts(Checkin.effective_at, venue_zone)["hour_start"]
    return and_(
        Checkin.venue_id == venue_id,
        counts_sql(Checkin.reasons),
        ~excluded_by(staff, Checkin.user_id, hour_start),
    )


def _local_parts(at, zone: str):
    """Local time, local day, weekday (Monday 0), hour and the local hour's start."""
    local = func.timezone(zone, at)
    return {
        "day": cast(local, Date),
        "weekday": cast(extract("isodow", local), Integer) - 1,
        "hour": cast(extract("hour", local), Integer),
        # the hour's start keeps the offset in force at ``at``
        "hour_start": at - (local - func.date_trunc("hour", local)),
    }


def _bucket(parts: dict, granularity: str):
    if granularity == "hour":
        return parts["hour_start"]
    if granularity == "day":
        return parts["day"]
    return cast(parts["day"] - parts["weekday"], Date)


@planned_per_call
def figures(db_session: Session, venue_id: int, span: Range) -> Figures:
    """Totals, buckets and weekday-hour cells of ``span`` in ``span.zone`` (a cell's
    ``visitors`` capped at ``THRESHOLD``, as the rollup gives it)."""
    counted = _counted(venue_id, accepted_since(db_session, venue_id))
    firsts = (
        select(Checkin.user_id, func.min(Checkin.effective_at).label("first_at"))
        .where(counted)
        .group_by(Checkin.user_id)
        .subquery("firsts")
    )
    parts = _local_parts(Checkin.effective_at, span.zone)
    first_parts = _local_parts(firsts.c.first_at, span.zone)
    new_in_bucket = _bucket(first_parts, span.granularity) == _bucket(parts, span.granularity)
    # each counted check-in, then the grouping sets over them: on Citus the check-ins
    # are gathered first (a multi-shard query cannot group by sets)
    counted_rows = (
        select(
            _bucket(parts, span.granularity).label("bucket"),
            parts["weekday"].label("weekday"),
            parts["hour"].label("hour"),
            Checkin.user_id,
            and_(firsts.c.first_at >= span.start, firsts.c.first_at < span.end).label("new"),
            new_in_bucket.label("new_in_bucket"),
        )
        .join(firsts, firsts.c.user_id == Checkin.user_id)
        .where(counted, Checkin.effective_at >= span.start, Checkin.effective_at < span.end)
        .cte("counted_rows")
    )
    c = counted_rows.c
    distinct_users = func.count(c.user_id.distinct())
    rows = db_session.execute(
        select(
            func.grouping(c.bucket, c.weekday, c.hour).label("set"),
            c.bucket,
            c.weekday,
            c.hour,
            func.count().label("checkins"),
            distinct_users.label("visitors"),
            distinct_users.filter(c.new).label("new_in_range"),
            distinct_users.filter(c.new_in_bucket).label("new_in_bucket"),
        ).group_by(func.grouping_sets(tuple_(), tuple_(c.bucket), tuple_(c.weekday, c.hour)))
    ).all()
    result = Figures()
    for row in rows:
        if row.set == 0b111:
            result.total = Counts(row.checkins, row.visitors, row.new_in_range)
        elif row.set == 0b011:
            result.buckets[row.bucket] = Counts(row.checkins, row.visitors, row.new_in_bucket)
        else:
            visitors = min(row.visitors, THRESHOLD)  # a cell only shows whether it may
            result.cells[(row.weekday, row.hour)] = Counts(row.checkins, visitors)
    return result
