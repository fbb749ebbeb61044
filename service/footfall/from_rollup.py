"""Footfall figures from the rollup and its summaries, so a year costs about what a week does.

- Everything that adds up across hours (check-ins, visitors of each day, week and hour,
  new visitors) comes from ``venue_hours``, one row per local hour.
- Visitors of the whole range and of each weekday-hour cell do not add up. A short range
  counts them in one pass over its own visit rows (a row is its visitor's first in the
  range, or cell, when the previous visit lies before the range). A long range instead
  takes those whose last day here is in or after it, less those whose first day is
  after it (``venue_visitor_days``, one row per day), less those who came before and
  after but not during it (their first visit after the range is a row whose previous day
  lies before it: rows after the range are read, so this way is taken only when they
  are fewer than the range's). A cell only needs to know whether it reached
  ``THRESHOLD`` visitors (it shows check-ins, or is suppressed): one hour of it with that
  many, or that many first-ever visits at that weekday and hour in the range, settles
  it; the others count their visitors in their own hours' rows.

The rollup keeps every visit; accepted staff are left out at read time, and only their
visit rows from the first hour after they accepted (``staff.py``): those rows are
subtracted, and their visitor days replaced by those of their earlier rows. Naming or
accepting someone therefore never changes a past figure. Statements are built once, with
parameters.
"""

from functools import lru_cache

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session

from service.common.plans import planned_per_call
from service.footfall.figures import THRESHOLD, Counts, Figures
from service.footfall.grid import Range
from service.footfall.staff import accepted, excluded_visit
from service.footfall.staff import count as staff_count
from service.models import VenueHour, VenueStaff, VenueVisit, VenueVisitor, VenueVisitorDay

H, V, D, P = VenueHour, VenueVisit, VenueVisitorDay, VenueVisitor
SUMMED = ("checkins", "visits", "day_firsts", "week_firsts", "new_visitors", "cell_firsts")
SCAN_ROWS = 30_000  # up to this many visit rows, one pass over them beats the lookups

VENUE = bindparam("p_venue", type_=BigInteger)
START, END = (bindparam(name, type_=DateTime(timezone=True)) for name in ("p_start", "p_end"))
FIRST, LAST = (bindparam(name, type_=Date) for name in ("p_first", "p_last"))


def span_params(venue_id: int, span: Range) -> dict:
    return {
        "p_venue": venue_id,
        "p_start": span.start,
        "p_end": span.end,
        "p_first": span.first,
        "p_last": span.last,
    }


def _staff_row():
    """A visit row left out: accepted staff's, from the first hour after they accepted."""
    return excluded_visit(VENUE, V.user_id, V.hour_start)


def _visits_in_range():
    return and_(V.venue_id == VENUE, V.hour_start >= START, V.hour_start < END)


def _first_in_range():
    """A visit row is its visitor's first in the range (their previous day lies before)."""
    return and_(V.first_of_day, or_(V.prev_day.is_(None), V.prev_day < FIRST))


def _as_int(expression):
    return cast(expression, Integer)


def _week(day, weekday):
    return cast(day - cast(weekday, Integer), Date)


def _hours():
    """The summary rows of the range's hours, and the staff's visit rows negated."""
    parts = (H.hour_start, H.local_day, H.weekday, H.local_hour)
    summary = select(*parts, *(getattr(H, name) for name in SUMMED)).where(
        H.venue_id == VENUE, H.hour_start >= START, H.hour_start < END
    )
    first_in_week = or_(V.prev_day.is_(None), V.prev_day < _week(V.local_day, V.weekday))
    staff_rows = select(
        V.hour_start,
        V.local_day,
        V.weekday,
        V.local_hour,
        -V.checkins,
        literal(-1),
        -_as_int(V.first_of_day),
        -_as_int(and_(V.first_of_day, first_in_week)),
        -_as_int(and_(V.first_of_day, V.prev_day.is_(None))),
        -_as_int(V.prev_cell_day.is_(None)),
    ).where(_visits_in_range(), _staff_row())
    return union_all(summary, staff_rows).subquery("hours")


@lru_cache(maxsize=4)
def _sums_statement(granularity: str):
    """The additive figures by grouping set: (), (bucket), (weekday, hour)."""
    hours = _hours()
    if granularity == "hour":
        bucket = hours.c.hour_start
    elif granularity == "day":
        bucket = hours.c.local_day
    else:
        bucket = _week(hours.c.local_day, hours.c.weekday)
    bucket = bucket.label("bucket")
    total = lambda name: cast(func.sum(hours.c[name]), BigInteger).label(name)  # noqa: E731
    return (
        select(
            func.grouping(bucket, hours.c.weekday, hours.c.local_hour).label("set"),
            bucket,
            hours.c.weekday,
            hours.c.local_hour,
            *(total(name) for name in SUMMED),
            func.max(hours.c.visits).label("busiest_hour"),  # staff included
            staff_count(VENUE).label("staff"),
        )
        .group_by(
            func.grouping_sets(
                tuple_(), tuple_(bucket), tuple_(hours.c.weekday, hours.c.local_hour)
            )
        )
        .having(func.sum(hours.c.visits) > 0)
    )


@lru_cache(maxsize=1)
def _scan_statement():
    """Visitors of the range and of each cell in one pass over the range's visit rows."""
    first_in_range = _first_in_range()
    first_in_cell = or_(V.prev_cell_day.is_(None), V.prev_cell_day < FIRST)
    return (
        select(
            func.grouping(V.weekday, V.local_hour).label("set"),
            V.weekday,
            V.local_hour,
            func.count().filter(first_in_range).label("range_visitors"),
            func.count().filter(first_in_cell).label("cell_visitors"),
        )
        .where(_visits_in_range(), ~_staff_row())
        .group_by(func.grouping_sets(tuple_(), tuple_(V.weekday, V.local_hour)))
    )


def first_visits_in_range():
    """Distinct visitors of the range from its own visit rows (one first row each)."""
    return select(func.count()).where(
        _visits_in_range(),
        _first_in_range(),
        ~_staff_row(),
    )


def visitors_from_days():
    """Distinct visitors of the range from the visitor days and the rows after it."""
    days = select(
        func.coalesce(func.sum(D.lasts), 0)
        - func.coalesce(func.sum(D.firsts).filter(D.day > LAST), 0)
    ).where(D.venue_id == VENUE, D.day >= FIRST)
    # accepted staff counted by their days as recorded, less as counted: their counted
    # rows are those before the acceptance, so their first day is the recorded one
    counted_last = (
        select(func.max(V.local_day))
        .where(
            V.venue_id == VENUE,
            V.user_id == VenueStaff.user_id,
            V.hour_start < VenueStaff.accepted_at,
        )
        .scalar_subquery()
    )
    staff = (
        select(
            func.count().filter(P.last_day >= FIRST)
            - func.count().filter(P.first_day > LAST)
            - func.count().filter(counted_last >= FIRST)
            + func.count().filter(counted_last.is_not(None), P.first_day > LAST)
        )
        .select_from(P)
        .join(VenueStaff, and_(VenueStaff.venue_id == P.venue_id, VenueStaff.user_id == P.user_id))
        .where(P.venue_id == VENUE, accepted(VENUE))
    )
    came_back = select(func.count()).where(
        V.venue_id == VENUE,
        V.hour_start >= END,
        V.first_of_day,
        V.prev_day < FIRST,
        ~_staff_row(),
    )
    return select(days.scalar_subquery() - staff.scalar_subquery() - came_back.scalar_subquery())


@lru_cache(maxsize=1)
def _range_statement():
    """Distinct visitors of a long range, the cheaper way (each branch is an init plan,
    which PostgreSQL runs only when the branch is taken)."""
    after = select(func.coalesce(func.sum(H.visits), 0)).where(
        H.venue_id == VENUE, H.hour_start >= END
    )
    rows_in_range = bindparam("p_rows", type_=BigInteger)
    return select(
        case(
            (after.scalar_subquery() <= rows_in_range, visitors_from_days().scalar_subquery()),
            else_=first_visits_in_range().scalar_subquery(),
        )
    )


@lru_cache(maxsize=1)
def _cells_statement():
    """Distinct visitors of some cells, from the visit rows of their own hours only."""
    hours = select(H.hour_start).where(
        H.venue_id == VENUE,
        H.hour_start >= START,
        H.hour_start < END,
        H.visits > 0,
        tuple_(H.weekday, H.local_hour).in_(bindparam("p_cells", expanding=True)),
    )
    return (
        select(V.weekday, V.local_hour, func.count(V.user_id.distinct()))
        .where(
            V.venue_id == VENUE,
            V.hour_start.in_(hours.scalar_subquery()),
            ~_staff_row(),
        )
        .group_by(V.weekday, V.local_hour)
    )


def _visitors(db_session: Session, params: dict, rows: int, unsettled: list):
    """The range's distinct visitors and those of the ``unsettled`` cells."""
    if rows <= SCAN_ROWS:
        total, cells = 0, {}
        for row in db_session.execute(_scan_statement(), params):
            if row.set == 0b11:
                total = row.range_visitors
            else:
                cells[(row.weekday, row.local_hour)] = row.cell_visitors
        return total, cells
    total = db_session.scalar(_range_statement(), {**params, "p_rows": rows})
    if not unsettled:
        return total, {}
    found = db_session.execute(_cells_statement(), {**params, "p_cells": unsettled})
    return total, {(weekday, hour): visitors for weekday, hour, visitors in found}


@planned_per_call
def figures(db_session: Session, venue_id: int, span: Range) -> Figures:
    """Totals, buckets and weekday-hour cells of ``span`` (the venue's own time zone).
    A cell's ``visitors`` is exact below ``THRESHOLD`` and ``THRESHOLD`` from there on."""
    params = span_params(venue_id, span)
    visitors_of_bucket = {"hour": "visits", "day": "day_firsts", "week": "week_firsts"}
    of_bucket = visitors_of_bucket[span.granularity]
    result, rows, unsettled = Figures(), 0, []
    for row in db_session.execute(_sums_statement(span.granularity), params):
        if row.set == 0b111:  # (): the whole range
            rows = row.visits
            result.total = Counts(row.checkins, 0, row.new_visitors)
        elif row.set == 0b011:  # (bucket)
            result.buckets[row.bucket] = Counts(
                row.checkins, getattr(row, of_bucket), row.new_visitors
            )
        else:  # (weekday, hour)
            cell = (row.weekday, row.local_hour)
            result.cells[cell] = Counts(row.checkins, THRESHOLD)
            # distinct visitors are at least its busiest hour's (any staff aside) and at least
            # those here at this weekday and hour for the first time ever
            if max(row.busiest_hour - row.staff, row.cell_firsts) < THRESHOLD:
                unsettled.append(cell)
    if not rows:
        return result
    result.total.visitors, counted = _visitors(db_session, params, rows, unsettled)
    for cell in unsettled:
        result.cells[cell].visitors = min(counted.get(cell, 0), THRESHOLD)
    return result
