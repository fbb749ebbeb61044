"""Footfall summaries folded by the worker, off the check-in's transaction.

Until now the statement triggers of migration 0011 upserted three summaries
(``venue_hours``, ``venue_visitors`` and, through its own trigger, ``venue_visitor_days``)
inside every check-in: 3-5 ms of a check-in's ~10 ms in PostgreSQL on the full world,
and a row lock on the busy hour of a busy venue held by every check-in there. Now the
triggers on ``venue_visits`` only append the changed rows, signed, to
``venue_visit_changes``; ``footfall_fold(batch)`` turns the oldest of them into the
same deltas for the summaries, set-based, and deletes them. The worker folds every
second; a stats read folds what is left first, so figures are never behind. Folds are
serialised by an advisory lock; the deltas commute with the check-ins appending.

Invariant: summaries + the fold of every pending change = the summaries of
``venue_visits``. A TRUNCATE of the rollup must empty the change log with it.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

COLUMNS = (
    "venue_id, hour_start, user_id, local_day, weekday, local_hour, checkins, first_of_day,"
    " prev_day, prev_cell_day"
)
APPEND = "INSERT INTO venue_visit_changes (sign, gone, {columns}) {rows};"
NEW = f"SELECT 1, false, {COLUMNS} FROM new_rows"
OLD = "SELECT -1, {gone}, " + COLUMNS + " FROM old_rows"
APPENDS = {
    "insert": APPEND.format(columns=COLUMNS, rows=NEW),
    "update": APPEND.format(columns=COLUMNS, rows=f"{OLD.format(gone='false')} UNION ALL {NEW}"),
    "delete": APPEND.format(columns=COLUMNS, rows=OLD.format(gone="true")),
}
TRANSITIONS = {
    "insert": "NEW TABLE AS new_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
}

# The deltas of 0011's triggers, over the changes taken; widening a visitor's days is
# done for added rows, recounting them from what is left for removed ones.
FOLD = """
CREATE FUNCTION footfall_fold(batch integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    taken integer;
    gone_venues bigint[];
    gone_users bigint[];
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('footfall_fold'));
    WITH taken AS (
        DELETE FROM venue_visit_changes
        WHERE id IN (SELECT id FROM venue_visit_changes ORDER BY id LIMIT batch)
        RETURNING *
    ), hours AS (
        INSERT INTO venue_hours AS h (venue_id, hour_start, local_day, weekday, local_hour,
                                      checkins, visits, day_firsts, week_firsts,
                                      new_visitors, cell_firsts)
        SELECT venue_id, hour_start, min(local_day), min(weekday), min(local_hour),
               sum(sign * checkins), sum(sign),
               coalesce(sum(sign) FILTER (WHERE first_of_day), 0),
               coalesce(sum(sign) FILTER (WHERE first_of_day
                        AND (prev_day IS NULL OR prev_day < local_day - weekday)), 0),
               coalesce(sum(sign) FILTER (WHERE first_of_day AND prev_day IS NULL), 0),
               coalesce(sum(sign) FILTER (WHERE prev_cell_day IS NULL), 0)
        FROM taken
        GROUP BY venue_id, hour_start
        ORDER BY venue_id, hour_start
        ON CONFLICT (venue_id, hour_start) DO UPDATE SET
            checkins = h.checkins + excluded.checkins,
            visits = h.visits + excluded.visits,
            day_firsts = h.day_firsts + excluded.day_firsts,
            week_firsts = h.week_firsts + excluded.week_firsts,
            new_visitors = h.new_visitors + excluded.new_visitors,
            cell_firsts = h.cell_firsts + excluded.cell_firsts
    ), widened AS (
        INSERT INTO venue_visitors AS v (venue_id, user_id, first_day, last_day)
        SELECT venue_id, user_id, min(local_day), max(local_day) FROM taken
        WHERE sign > 0
        GROUP BY venue_id, user_id
        ORDER BY venue_id, user_id
        ON CONFLICT (venue_id, user_id) DO UPDATE SET
            first_day = least(v.first_day, excluded.first_day),
            last_day = greatest(v.last_day, excluded.last_day)
        WHERE excluded.first_day < v.first_day OR excluded.last_day > v.last_day
    )
    SELECT count(*), array_agg(venue_id) FILTER (WHERE gone),
           array_agg(user_id) FILTER (WHERE gone)
    INTO taken, gone_venues, gone_users FROM taken;
    IF gone_venues IS NOT NULL THEN
        WITH gone AS (
            SELECT DISTINCT venue_id, user_id FROM unnest(gone_venues, gone_users)
                AS g(venue_id, user_id)
        ), left_over AS (
            SELECT g.venue_id, g.user_id, min(v.local_day) AS first_day,
                   max(v.local_day) AS last_day
            FROM gone g LEFT JOIN venue_visits v USING (venue_id, user_id)
            GROUP BY g.venue_id, g.user_id
        ), dropped AS (
            DELETE FROM venue_visitors vv USING left_over l
            WHERE vv.venue_id = l.venue_id AND vv.user_id = l.user_id AND l.first_day IS NULL
        )
        UPDATE venue_visitors vv SET first_day = l.first_day, last_day = l.last_day
        FROM left_over l
        WHERE vv.venue_id = l.venue_id AND vv.user_id = l.user_id
          AND l.first_day IS NOT NULL
          AND (vv.first_day, vv.last_day) IS DISTINCT FROM (l.first_day, l.last_day);
    END IF;
    RETURN taken;
END
$$
"""


def _trigger(event: str, body: str) -> None:
    function = f"footfall_venue_visits_{event}"
    op.execute(f"DROP TRIGGER {function} ON venue_visits")
    op.execute(
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}\nRETURN NULL;\nEND\n$$"
    )
    op.execute(
        f"CREATE TRIGGER {function} AFTER {event.upper()} ON venue_visits"
        f" REFERENCING {TRANSITIONS[event]} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
    )


def upgrade() -> None:
    op.create_table(
        "venue_visit_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("sign", sa.SmallInteger(), nullable=False, comment="+1 added, -1 removed"),
        sa.Column("gone", sa.Boolean(), nullable=False, comment="removed by a DELETE"),
        sa.Column("venue_id", sa.BigInteger(), nullable=False),
        sa.Column("hour_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("local_hour", sa.SmallInteger(), nullable=False),
        sa.Column("checkins", sa.Integer(), nullable=False),
        sa.Column("first_of_day", sa.Boolean(), nullable=False),
        sa.Column("prev_day", sa.Date()),
        sa.Column("prev_cell_day", sa.Date()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_venue_visit_changes")),
        comment="changes of venue_visits not yet folded into the footfall summaries",
    )
    op.execute(FOLD)
    for event, body in APPENDS.items():
        _trigger(event, body)


def downgrade() -> None:
    op.execute("SELECT footfall_fold(2147483647)")
    from importlib import import_module

    summaries = import_module("migrations.versions.20261202_0011_footfall_summaries")
    for event in APPENDS:
        key = ("venue_visits", event)
        _trigger(event, summaries.TRIGGERS[key])
    op.execute("DROP FUNCTION footfall_fold(integer)")
    op.drop_table("venue_visit_changes")
