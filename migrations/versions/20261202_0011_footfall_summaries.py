"""Footfall summaries kept by triggers on the rollup: per venue and local hour, per visitor
(first and last day here) and per day (how many visitors' first and last days fall on it).

A year of a busy venue's stats then reads ~8,700 hour rows and ~365 day rows instead of
~190,000 visit rows. Statement-level triggers with transition tables keep them, so every
writer of ``venue_visits`` (check-ins, replay fix-ups, rebuilds, account deletion
cascading) updates them in the same transaction, as deltas that commute under concurrency.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 06:20:00
"""

import geoalchemy2  # noqa: F401
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# What each visit row adds to its hour (times ``sign``: +1 inserted, -1 deleted).
VISIT_COLUMNS = "venue_id, hour_start, local_day, weekday, local_hour, checkins, first_of_day,"
VISIT_COLUMNS += " prev_day, prev_cell_day"
HOURS_DELTA = """
    INSERT INTO venue_hours AS h (venue_id, hour_start, local_day, weekday, local_hour,
                                  checkins, visits, day_firsts, week_firsts, new_visitors,
                                  cell_firsts)
    SELECT venue_id, hour_start, min(local_day), min(weekday), min(local_hour),
           sum(sign * checkins), sum(sign),
           coalesce(sum(sign) FILTER (WHERE first_of_day), 0),
           coalesce(sum(sign) FILTER (WHERE first_of_day
                    AND (prev_day IS NULL OR prev_day < local_day - weekday)), 0),
           coalesce(sum(sign) FILTER (WHERE first_of_day AND prev_day IS NULL), 0),
           coalesce(sum(sign) FILTER (WHERE prev_cell_day IS NULL), 0)
    FROM ({changed}) AS changed
    GROUP BY venue_id, hour_start
    ORDER BY venue_id, hour_start
    ON CONFLICT (venue_id, hour_start) DO UPDATE SET
        checkins = h.checkins + excluded.checkins,
        visits = h.visits + excluded.visits,
        day_firsts = h.day_firsts + excluded.day_firsts,
        week_firsts = h.week_firsts + excluded.week_firsts,
        new_visitors = h.new_visitors + excluded.new_visitors,
        cell_firsts = h.cell_firsts + excluded.cell_firsts;
"""
NEW_VISITS = f"SELECT {VISIT_COLUMNS}, 1 AS sign FROM new_rows"
OLD_VISITS = f"SELECT {VISIT_COLUMNS}, -1 AS sign FROM old_rows"

# A visitor's first and last day here widen as visits arrive ...
VISITORS_WIDEN = """
    INSERT INTO venue_visitors AS v (venue_id, user_id, first_day, last_day)
    SELECT venue_id, user_id, min(local_day), max(local_day) FROM new_rows
    GROUP BY venue_id, user_id
    ORDER BY venue_id, user_id
    ON CONFLICT (venue_id, user_id) DO UPDATE SET
        first_day = least(v.first_day, excluded.first_day),
        last_day = greatest(v.last_day, excluded.last_day)
    WHERE excluded.first_day < v.first_day OR excluded.last_day > v.last_day;
"""
# ... and are found again from what is left when visits go (a deleted account, a rebuild).
VISITORS_RECOUNT = """
    WITH gone AS (SELECT DISTINCT venue_id, user_id FROM old_rows),
    left_over AS (
        SELECT g.venue_id, g.user_id, min(v.local_day) AS first_day,
               max(v.local_day) AS last_day
        FROM gone g LEFT JOIN venue_visits v USING (venue_id, user_id)
        GROUP BY g.venue_id, g.user_id
    ),
    dropped AS (
        DELETE FROM venue_visitors vv USING left_over l
        WHERE vv.venue_id = l.venue_id AND vv.user_id = l.user_id AND l.first_day IS NULL
    )
    UPDATE venue_visitors vv SET first_day = l.first_day, last_day = l.last_day
    FROM left_over l
    WHERE vv.venue_id = l.venue_id AND vv.user_id = l.user_id AND l.first_day IS NOT NULL
      AND (vv.first_day, vv.last_day) IS DISTINCT FROM (l.first_day, l.last_day);
"""

# How many visitors' first (last) day is each day, from changed visitor rows.
DAYS_DELTA = """
    INSERT INTO venue_visitor_days AS d (venue_id, day, firsts, lasts)
    SELECT venue_id, day, sum(firsts), sum(lasts) FROM ({changed}) AS changed
    GROUP BY venue_id, day
    ORDER BY venue_id, day
    ON CONFLICT (venue_id, day) DO UPDATE SET
        firsts = d.firsts + excluded.firsts, lasts = d.lasts + excluded.lasts;
"""
NEW_DAYS = (
    "SELECT venue_id, first_day AS day, 1 AS firsts, 0 AS lasts FROM new_rows"
    " UNION ALL SELECT venue_id, last_day, 0, 1 FROM new_rows"
)
OLD_DAYS = (
    "SELECT venue_id, first_day AS day, -1 AS firsts, 0 AS lasts FROM old_rows"
    " UNION ALL SELECT venue_id, last_day, 0, -1 FROM old_rows"
)

TRIGGERS = {  # (table, event): body
    ("venue_visits", "insert"): HOURS_DELTA.format(changed=NEW_VISITS) + VISITORS_WIDEN,
    ("venue_visits", "update"): HOURS_DELTA.format(changed=f"{NEW_VISITS} UNION ALL {OLD_VISITS}"),
    ("venue_visits", "delete"): HOURS_DELTA.format(changed=OLD_VISITS) + VISITORS_RECOUNT,
    ("venue_visitors", "insert"): DAYS_DELTA.format(changed=NEW_DAYS),
    ("venue_visitors", "update"): DAYS_DELTA.format(changed=f"{NEW_DAYS} UNION ALL {OLD_DAYS}"),
    ("venue_visitors", "delete"): DAYS_DELTA.format(changed=OLD_DAYS),
}
TRANSITIONS = {
    "insert": "NEW TABLE AS new_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
}

BACKFILL = [
    HOURS_DELTA.format(changed="SELECT *, 1 AS sign FROM venue_visits"),
    """INSERT INTO venue_visitors (venue_id, user_id, first_day, last_day)
       SELECT venue_id, user_id, min(local_day), max(local_day) FROM venue_visits
       GROUP BY venue_id, user_id""",
    DAYS_DELTA.format(changed=NEW_DAYS.replace("new_rows", "venue_visitors")),
]


def _counter(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "venue_hours",
        sa.Column("venue_id", sa.BigInteger(), nullable=False),
        sa.Column("hour_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("local_hour", sa.SmallInteger(), nullable=False),
        *[_counter(name) for name in ("checkins", "visits", "day_firsts", "week_firsts")],
        _counter("new_visitors"),
        _counter("cell_firsts"),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name=op.f("fk_venue_hours_venue_id_venues")
        ),
        sa.PrimaryKeyConstraint("venue_id", "hour_start", name=op.f("pk_venue_hours")),
    )
    # a weekday-hour cell's hours, for cells that need their visitors counted
    op.create_index(
        "ix_venue_hours_cell", "venue_hours", ["venue_id", "weekday", "local_hour", "hour_start"]
    )
    op.create_table(
        "venue_visitors",
        sa.Column("venue_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name=op.f("fk_venue_visitors_venue_id_venues")
        ),
        sa.PrimaryKeyConstraint("venue_id", "user_id", name=op.f("pk_venue_visitors")),
    )
    op.create_table(
        "venue_visitor_days",
        sa.Column("venue_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        _counter("firsts"),
        _counter("lasts"),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name=op.f("fk_venue_visitor_days_venue_id_venues")
        ),
        sa.PrimaryKeyConstraint("venue_id", "day", name=op.f("pk_venue_visitor_days")),
    )
    for statement in BACKFILL:
        op.execute(statement)
    for (table, event), body in TRIGGERS.items():
        function = f"footfall_{table}_{event}"
        op.execute(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n{body}\nRETURN NULL;\nEND\n$$"
        )
        op.execute(
            f"CREATE TRIGGER {function} AFTER {event.upper()} ON {table}"
            f" REFERENCING {TRANSITIONS[event]} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )


def downgrade() -> None:
    for table, event in TRIGGERS:
        function = f"footfall_{table}_{event}"
        op.execute(f"DROP TRIGGER {function} ON {table}")
        op.execute(f"DROP FUNCTION {function}()")
    op.drop_table("venue_visitor_days")
    op.drop_table("venue_visitors")
    op.drop_table("venue_hours")
