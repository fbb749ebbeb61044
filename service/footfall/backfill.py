"""Rebuild the footfall rollup from the check-in history in one set-based statement
(after upgrading a database that has history, or to repair it): the same rows, marks
and counts the check-ins would have produced arriving one by one."""

from sqlalchemy import Date, Integer, cast, extract, func, insert, select, text
from sqlalchemy.orm import Session

from service.footfall import changes
from service.footfall.fold import fold_all
from service.footfall.rollup import VISIT_COLUMNS, counts_sql
from service.models import (
    Checkin,
    Venue,
    VenueHour,
    VenueVisit,
    VenueVisitChange,
    VenueVisitor,
    VenueVisitorDay,
)

DERIVED = [
    model.__tablename__ for model in (VenueHour, VenueVisitor, VenueVisitorDay, VenueVisitChange)
]

REBUILD_BATCH = 200_000


def rebuild(*, db_session: Session, venue_id: int | None = None) -> int:
    """Replace the rollup (of one venue, or all) with one computed from history; returns
    the number of visit rows."""
    local = func.timezone(Venue.timezone, Checkin.effective_at)
    keys = (
        Checkin.venue_id,
        Checkin.user_id,
        Checkin.effective_at - (local - func.date_trunc("hour", local)),
        cast(local, Date),
        cast(extract("isodow", local), Integer) - 1,
        cast(extract("hour", local), Integer),
    )
    names = ("venue_id", "user_id", "hour_start", "local_day", "weekday", "local_hour")
    hours = (
        select(*[key.label(name) for key, name in zip(keys, names, strict=True)])
        .add_columns(func.count().label("checkins"))
        .join(Venue, Venue.id == Checkin.venue_id)
        .where(counts_sql(Checkin.reasons))
        .group_by(*keys)
    )
    if venue_id is not None:
        hours = hours.where(Checkin.venue_id == venue_id)
    hours = hours.subquery("hours")
    visitor = [hours.c.venue_id, hours.c.user_id]
    by_visitor = {"partition_by": visitor, "order_by": hours.c.hour_start}
    by_cell = {
        "partition_by": [*visitor, hours.c.weekday, hours.c.local_hour],
        "order_by": hours.c.hour_start,
    }
    previous_day = func.lag(hours.c.local_day).over(**by_visitor)
    first = hours.c.local_day.is_distinct_from(previous_day)
    rows = select(
        hours.c.venue_id,
        hours.c.hour_start,
        hours.c.user_id,
        hours.c.local_day,
        hours.c.weekday,
        hours.c.local_hour,
        hours.c.checkins,
        first,
        func.nullif(previous_day, hours.c.local_day),
        func.lag(hours.c.local_day).over(**by_cell),
    )
    table = VenueVisit.__table__
    if venue_id is None:  # a TRUNCATE logs nothing: the summaries and the log go with it,
        # and its lock keeps every other writer out until the rows are back and logged
        _truncate(db_session, [table.name, *DERIVED])
        db_session.execute(insert(table).from_select(VISIT_COLUMNS, rows))
        changes.log_present(db_session)
    else:  # a check-in may write the venue's rows meanwhile: log exactly what is written
        changes.delete_logged(db_session, table.c.venue_id == venue_id)
        changes.insert_logged(db_session, rows)
    fold_all(db_session, batch=REBUILD_BATCH, venue_id=venue_id)  # the summaries, set-based
    counted = select(func.count()).select_from(table)
    if venue_id is not None:
        counted = counted.where(table.c.venue_id == venue_id)
    return db_session.scalar(counted)


def _truncate(db_session: Session, tables: list[str]) -> None:
    """Empty the tables. On Citus a TRUNCATE run over parallel connections would keep
    the reference table ``venues`` (the tables' foreign keys point at it) from being read
    later in the transaction, so it takes one connection per node; single-node
    PostgreSQL only keeps the setting as an unused placeholder."""
    db_session.execute(text("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'"))
    db_session.execute(text(f"TRUNCATE {', '.join(tables)}"))
    db_session.execute(text("RESET citus.multi_shard_modify_mode"))
