"""Keep the footfall rollup (``venue_visits``) as check-ins arrive.

A visit row is per (venue, local hour, visitor). Inserting one records whether it is
the visitor's first that day and their previous visit day (overall, and at the same
weekday and hour); an offline replay that lands before rows already there also fixes
those rows' marks, so the rollup never depends on arrival order. The summaries the stats
read (``venue_hours``, ``venue_visitors``, ``venue_visitor_days``) follow every change of
these rows: a statement trigger logs the change (migration 0016) and the worker, or the
next stats read, folds it in (``fold.py``), so no check-in pays for the summaries.
"""

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    SmallInteger,
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, aliased

from service.models import Checkin, VenueVisit

NOT_FOOTFALL = frozenset({"imprecise", "too_far", "too_fast"})
VISIT_COLUMNS = [
    "venue_id",
    "hour_start",
    "user_id",
    "local_day",
    "weekday",
    "local_hour",
    "checkins",
    "first_of_day",
    "prev_day",
    "prev_cell_day",
]


def counts(reasons: list[dict]) -> bool:
    """Footfall counts a check-in unless it was probably not there (PRODUCT.md)."""
    return not any(reason["code"] in NOT_FOOTFALL for reason in reasons)


def counts_sql(reasons_column):
    """The same test in SQL, over a check-ins ``reasons`` JSONB column."""
    return and_(*[~reasons_column.contains([{"code": code}]) for code in sorted(NOT_FOOTFALL)])


def local_hour(at: datetime, zone: str) -> tuple[datetime, date, int, int]:
    """``(start of the local hour as UTC, local day, weekday Monday=0, hour)`` of ``at``.

    The start keeps the UTC offset in force at ``at``, so the repeated hour of a
    daylight-saving fall-back is two hours, and zones offset by :30 or :45 get their own
    hour edges."""
    local = at.astimezone(ZoneInfo(zone))
    start = local.replace(minute=0, second=0, microsecond=0)
    return start.astimezone(UTC), local.date(), local.weekday(), local.hour


def _params():
    return (
        bindparam("p_venue", type_=BigInteger),
        bindparam("p_user", type_=BigInteger),
        bindparam("p_hour_start", type_=DateTime(timezone=True)),
        bindparam("p_day", type_=Date),
        bindparam("p_weekday", type_=SmallInteger),
        bindparam("p_hour", type_=SmallInteger),
    )


@lru_cache(maxsize=1)
def _record_statement():
    """Insert the visit with its marks, or count one more check-in in it; built once.
    Returns whether it was new and whether the visitor has later visits here."""
    venue_id, user_id, hour_start, day, weekday, hour = _params()
    mine = and_(VenueVisit.user_id == user_id, VenueVisit.venue_id == venue_id)
    previous = (
        select(VenueVisit.local_day)
        .where(mine, VenueVisit.hour_start < hour_start)
        .order_by(VenueVisit.hour_start.desc())
        .limit(1)
        .scalar_subquery()
    )
    previous_in_cell = (
        select(VenueVisit.local_day)
        .where(
            mine,
            VenueVisit.weekday == weekday,
            VenueVisit.local_hour == hour,
            VenueVisit.hour_start < hour_start,
        )
        .order_by(VenueVisit.hour_start.desc())
        .limit(1)
        .scalar_subquery()
    )
    before = select(previous.label("day"), previous_in_cell.label("cell_day")).subquery()
    first = before.c.day.is_distinct_from(day)
    table = VenueVisit.__table__
    later = aliased(VenueVisit)
    statement = insert(table).from_select(
        VISIT_COLUMNS,
        select(
            venue_id,
            hour_start,
            user_id,
            day,
            weekday,
            hour,
            literal(1),
            first,
            func.nullif(before.c.day, day),
            before.c.cell_day,
        ),
    )
    return statement.on_conflict_do_update(
        index_elements=[table.c.venue_id, table.c.hour_start, table.c.user_id],
        set_={"checkins": table.c.checkins + 1},
    ).returning(
        (table.c.checkins == 1).label("inserted"),
        table.c.first_of_day,
        exists()
        .where(
            later.user_id == user_id,
            later.venue_id == venue_id,
            later.hour_start > hour_start,
        )
        .label("has_later"),
    )


@lru_cache(maxsize=1)
def _fix_later_statements():
    """After a visit landed before others of the same visitor and venue: the rest of its
    day are no longer the day's first, the next day's first now follows this day, and
    the next visit in the same weekday and hour now follows this one."""
    venue_id, user_id, hour_start, day, weekday, hour = _params()
    mine = and_(VenueVisit.user_id == user_id, VenueVisit.venue_id == venue_id)
    table = VenueVisit.__table__
    rest_of_day = (
        update(table)
        .where(mine, VenueVisit.local_day == day, VenueVisit.hour_start > hour_start)
        .values(first_of_day=False, prev_day=None)
    )
    next_day = select(func.min(VenueVisit.local_day)).where(mine, VenueVisit.local_day > day)
    following_day = (
        update(table)
        .where(
            mine,
            VenueVisit.first_of_day,
            VenueVisit.local_day == next_day.scalar_subquery(),
            or_(VenueVisit.prev_day.is_(None), VenueVisit.prev_day < day),
        )
        .values(prev_day=day)
    )
    in_cell = and_(mine, VenueVisit.weekday == weekday, VenueVisit.local_hour == hour)
    next_in_cell = select(func.min(VenueVisit.hour_start)).where(
        in_cell, VenueVisit.hour_start > hour_start
    )
    following_in_cell = (
        update(table)
        .where(
            in_cell,
            VenueVisit.hour_start == next_in_cell.scalar_subquery(),
            or_(VenueVisit.prev_cell_day.is_(None), VenueVisit.prev_cell_day < day),
        )
        .values(prev_cell_day=day)
    )
    return rest_of_day, following_day, following_in_cell


def record(*, db_session: Session, checkin: Checkin, zone: str) -> None:
    """Count a stored check-in in its venue's footfall (if it counts)."""
    if not counts(checkin.reasons):
        return
    hour_start, day, weekday, hour = local_hour(checkin.effective_at, zone)
    params = {
        "p_venue": checkin.venue_id,
        "p_user": checkin.user_id,
        "p_hour_start": hour_start,
        "p_day": day,
        "p_weekday": weekday,
        "p_hour": hour,
    }
    row = db_session.connection().execute(_record_statement(), params).one()
    if row.inserted and row.has_later:
        rest_of_day, following_day, following_in_cell = _fix_later_statements()
        if row.first_of_day:
            db_session.execute(rest_of_day, params)
            db_session.execute(following_day, params)
        db_session.execute(following_in_cell, params)
