"""Keep the footfall rollup (``venue_visits``) as check-ins arrive.

A visit row is per (venue, local hour, visitor). Inserting one records whether it is
the visitor's first that day and their previous visit day (overall, and at the same
weekday and hour); an offline replay that lands before rows already there also fixes
those rows' marks, so the rollup never depends on arrival order. The summaries the stats
read (``venue_hours``, ``venue_visitors``, ``venue_visitor_days``) follow every change of
these rows: the writer logs each change (``changes.py``) and the worker, or the next
stats read, folds it in (``fold.py``), so no check-in pays for the summaries. Every
statement of a check-in here is keyed by its venue (on Citus, routed to one shard).
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
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.footfall import changes
from service.models import Checkin, VenueVisit

NOT_FOOTFALL = frozenset({"imprecise", "too_far", "too_fast"})
VISIT_COLUMNS = changes.COLUMNS  # venue_id, hour_start, user_id, local_day, ...


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
def _before_statement():
    """The visitor's previous day here before the hour (overall, and at the same weekday
    and hour) and whether they have visits after it: one statement on the venue's rows
    (on Citus, its shard); built once."""
    venue_id, user_id, hour_start, _day, weekday, hour = _params()
    mine = and_(VenueVisit.venue_id == venue_id, VenueVisit.user_id == user_id)
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
    later = exists().where(mine, VenueVisit.hour_start > hour_start)
    return select(
        previous.label("day"), previous_in_cell.label("cell_day"), later.label("has_later")
    )


@lru_cache(maxsize=1)
def _upsert_statement():
    """Insert the visit (its columns as parameters) with its marks, or count one more
    check-in in it, returning the row as it now is (plain columns: Citus routes it to the
    venue's shard); built once."""
    table = VenueVisit.__table__
    return (
        insert(table)
        .on_conflict_do_update(
            index_elements=[table.c.venue_id, table.c.hour_start, table.c.user_id],
            set_={"checkins": table.c.checkins + 1},
        )
        .returning(*table.c)
    )


@lru_cache(maxsize=1)
def _fix_later_statements():
    """After a visit landed before others of the same visitor and venue: the rest of its
    day are no longer the day's first, the next day's first now follows this day, and
    the next visit in the same weekday and hour now follows this one. Each returns the
    rows it changed as they were (``was_*``: the row joined to itself, read by the same
    statement; the user's lock keeps other writers off it) and as they are, for the log."""
    venue_id, user_id, hour_start, day, weekday, hour = _params()
    mine = and_(VenueVisit.user_id == user_id, VenueVisit.venue_id == venue_id)
    table = VenueVisit.__table__
    was = table.alias("was")
    same_row = and_(
        *[was.c[name] == table.c[name] for name in ("venue_id", "hour_start", "user_id")]
    )
    returned = [*table.c, *[was.c[name].label(f"was_{name}") for name in VISIT_COLUMNS]]
    rest_of_day = (
        update(table)
        .where(mine, VenueVisit.local_day == day, VenueVisit.hour_start > hour_start, same_row)
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
            same_row,
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
            same_row,
        )
        .values(prev_cell_day=day)
    )
    return tuple(
        statement.returning(*returned)
        for statement in (rest_of_day, following_day, following_in_cell)
    )


def _fix_later(db_session: Session, params: dict, *, first_of_day: bool) -> None:
    """Fix the marks of the visitor's later visits here, logging each row changed."""
    rest_of_day, following_day, following_in_cell = _fix_later_statements()
    statements = [rest_of_day, following_day] if first_of_day else []
    for statement in [*statements, following_in_cell]:
        rows = db_session.execute(statement, params).mappings().all()
        was = [{name: row[f"was_{name}"] for name in VISIT_COLUMNS} for row in rows]
        changes.append(db_session, [*map(changes.removed, was), *map(changes.added, rows)])


def record(*, db_session: Session, checkin: Checkin, zone: str) -> None:
    """Count a stored check-in in its venue's footfall (if it counts), logging the change.

    Called under the user's lock (``checkins.service``): a visitor's rows at a venue
    change only through their own check-ins (or a rebuild), so what the first statement
    reads still holds when the next ones write; two people at one venue write rows of
    their own."""
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
    connection = db_session.connection()
    before = connection.execute(_before_statement(), params).one()
    visit = {
        "venue_id": checkin.venue_id,
        "hour_start": hour_start,
        "user_id": checkin.user_id,
        "local_day": day,
        "weekday": weekday,
        "local_hour": hour,
        "checkins": 1,
        "first_of_day": before.day != day,
        "prev_day": None if before.day == day else before.day,
        "prev_cell_day": before.cell_day,
    }
    row = connection.execute(_upsert_statement(), visit).mappings().one()
    inserted = row["checkins"] == 1
    replaced = [] if inserted else [changes.removed({**row, "checkins": row["checkins"] - 1})]
    changes.append(db_session, [*replaced, changes.added(row)])
    if inserted and before.has_later:
        _fix_later(db_session, params, first_of_day=row["first_of_day"])


def forget_visitor(*, db_session: Session, user_id: int) -> None:
    """Take a user's visits out of every venue's footfall, logged (before their account
    is deleted: the visits no longer cascade away unseen)."""
    changes.delete_logged(db_session, VenueVisit.user_id == user_id)
