"""Write a replay's result: the rewards tables emptied as ``recompute`` empties them,
then filled with COPY, and the totals set from scratch tables in one UPDATE each."""

from collections import defaultdict

from psycopg import sql
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from service.models import (
    Checkin,
    MayorshipChange,
    Meeting,
    PointsEntry,
    User,
    UserBadge,
    UserCity,
    UserVenue,
    Venue,
    VenueMayor,
    VenueVisitDay,
)
from service.rewards.reset import reset

SCRATCH = MetaData()
USER_TOTALS = Table(
    "replay_user_totals",
    SCRATCH,
    Column("id", BigInteger),
    Column("points", Integer),
    Column("eligible_checkins", Integer),
    Column("venues_visited", Integer),
    Column("cities_visited", Integer),
    prefixes=["TEMPORARY"],
)
CHECKIN_POINTS = Table(
    "replay_checkin_points",
    SCRATCH,
    Column("user_id", BigInteger),
    Column("id", BigInteger),
    Column("points", Integer),
    prefixes=["TEMPORARY"],
)
FIRST_MEETINGS = Table(
    "replay_first_meetings", SCRATCH, Column("id", BigInteger), prefixes=["TEMPORARY"]
)


def copy_rows(db_session: Session, table, columns: list[str], rows) -> None:
    """COPY ``rows`` into ``table``'s ``columns`` (a model's table or a scratch one)."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    raw = db_session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def scratch(db_session: Session, table: Table, rows) -> Table:
    """A temporary table holding ``rows`` (emptied first if this transaction has it)."""
    table.create(db_session.connection(), checkfirst=True)
    db_session.execute(table.delete())
    copy_rows(db_session, table, [column.name for column in table.columns], rows)
    return table


def _by_person(row: tuple) -> int:
    """Rows in their person's order: indexes led by the person fill in order (faster)."""
    return row[0]


def _totals(replay) -> tuple[dict, dict]:
    users: dict[int, int] = defaultdict(int)
    checkins: dict[tuple[int, int], int] = defaultdict(int)
    for user_id, checkin_id, _, points, _ in replay.lines:
        users[user_id] += points
        if checkin_id is not None:
            checkins[(user_id, checkin_id)] += points
    return users, checkins


def store(db_session: Session, replay) -> None:
    """Replace every reward with the replay's."""
    reset(db_session)
    db_session.flush()
    users, checkins = _totals(replay)
    points = scratch(
        db_session, CHECKIN_POINTS, [(*key, value) for key, value in checkins.items() if value]
    )
    db_session.execute(
        update(Checkin)
        .where(Checkin.user_id == points.c.user_id, Checkin.id == points.c.id)
        .values(points=points.c.points)
    )
    for model, columns, rows in _tables(replay):
        copy_rows(db_session, model.__table__, columns, rows)
    counters = replay.counters
    totals = scratch(
        db_session,
        USER_TOTALS,
        [
            (user, users.get(user, 0), *counters.get(user, (0, 0, 0)))
            for user in users.keys() | counters.keys()
        ],
    )
    db_session.execute(
        update(User)
        .where(User.id == totals.c.id)
        .values(
            points=totals.c.points,
            eligible_checkins=totals.c.eligible_checkins,
            venues_visited=totals.c.venues_visited,
            cities_visited=totals.c.cities_visited,
        )
    )
    firsts = scratch(db_session, FIRST_MEETINGS, [(first,) for first, _ in replay.firsts.values()])
    db_session.execute(
        update(Meeting).where(Meeting.id.in_(select(firsts.c.id))).values(first_time=True)
    )
    keep_cities(db_session=db_session, cities=replay.history.new_cities)
    db_session.expire_all()


def keep_cities(*, db_session: Session, cities: dict[int, str]) -> None:
    """Keep the cities looked up on the venues that have none (as ``award.venue_city``)."""
    if not cities:
        return
    # arrays, not a scratch table: venues is a reference table on Citus, and an UPDATE of
    # one may read no local table
    found = (
        func.unnest(
            bindparam("ids", list(cities), type_=ARRAY(BigInteger)),
            bindparam("cities", list(cities.values()), type_=ARRAY(String)),
        )
        .table_valued("id", "city")
        .render_derived(name="found")
    )
    db_session.execute(
        update(Venue).where(Venue.id == found.c.id, Venue.city.is_(None)).values(city=found.c.city)
    )


def _tables(replay) -> tuple:
    """Each rewards table with its columns and the replay's rows, in its key's order."""
    mayors = replay.mayors
    return (
        (
            UserBadge,
            ["user_id", "badge", "level", "awarded_at", "checkin_id"],
            sorted(replay.awards.rows, key=_by_person),
        ),
        (
            UserVenue,
            ["user_id", "venue_id", "first_checkin_id", "first_at"],
            [(user, venue, *first) for (user, venue), first in sorted(replay.venues.items())],
        ),
        (
            UserCity,
            ["user_id", "city", "first_checkin_id", "first_at"],
            [(user, city, *first) for (user, city), first in sorted(replay.cities.items())],
        ),
        (VenueVisitDay, ["venue_id", "user_id", "local_day"], sorted(mayors.rows)),
        (
            VenueMayor,
            ["venue_id", "user_id", "days", "since", "expires_at"],
            [(venue, *row) for venue, row in sorted(mayors.current.items())],
        ),
        (
            MayorshipChange,
            ["venue_id", "previous_user_id", "user_id", "days", "at", "checkin_id"],
            mayors.changes,
        ),
        (
            PointsEntry,
            ["user_id", "checkin_id", "reason", "points", "created_at"],
            sorted(replay.lines, key=_by_person),
        ),
    )
