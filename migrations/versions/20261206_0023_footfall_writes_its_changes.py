"""Footfall's writers log their own changes; no triggers.

Until now six statement triggers with transition tables kept the footfall summaries in
step: on ``venue_visits`` they appended each changed row to ``venue_visit_changes``
(0016), on ``venue_visitors`` they added the visitors' first and last days to
``venue_visitor_days`` (0011). On Citus a trigger runs on a shard and cannot write
another distributed table, so they go, on both engines:
- every writer of ``venue_visits`` appends the same change rows itself, in the same
  transaction (``service/footfall/changes.py``);
- ``footfall_fold``, the only writer of ``venue_visitors``, adds the visitor-day deltas
  itself: each visitor row it inserts (+1), changes (the row as it was -1, as it is +1)
  or deletes (-1), as the triggers did.
``venue_visit_changes`` is keyed by ``(venue_id, id)`` (a distributed table's key must
hold its distribution column); the worker's oldest-first pick has an index on ``id``.
A user's visits no longer cascade away with the account, which would leave no change
logged: ``footfall.rollup.forget_visitor`` deletes them, logged, first.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 15:40:00
"""

from importlib import import_module

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

SUMMARIES_0011 = import_module("migrations.versions.20261202_0011_footfall_summaries")
UPKEEP_0016 = import_module("migrations.versions.20261206_0016_checkin_upkeep")
FOLD_0019 = import_module("migrations.versions.20261206_0019_footfall_fold_by_venue").FOLD

TRIGGERS = [
    (table, event)
    for table in ("venue_visits", "venue_visitors")
    for event in ("insert", "update", "delete")
]

# What visitor rows added (+1) and removed (-1) change in their first and last days;
# ``{changed}`` yields (venue_id, first_day, last_day, sign).
DAYS_DELTA = """
        INSERT INTO venue_visitor_days AS d (venue_id, day, firsts, lasts)
        SELECT c.venue_id, x.day, sum(x.firsts), sum(x.lasts)
        FROM ({changed}) AS c,
             LATERAL (VALUES (c.first_day, c.sign, 0), (c.last_day, 0, c.sign))
                 AS x(day, firsts, lasts)
        GROUP BY c.venue_id, x.day
        ORDER BY c.venue_id, x.day
        ON CONFLICT (venue_id, day) DO UPDATE SET
            firsts = d.firsts + excluded.firsts, lasts = d.lasts + excluded.lasts"""
# a visitor row inserted; one updated, as it was and as it is; one deleted
INSERTED = "SELECT venue_id, first_day, last_day, 1 AS sign FROM {rows}"
UPDATED = (
    "SELECT venue_id, first_day, last_day, 1 AS sign FROM {rows}"
    " UNION ALL SELECT venue_id, was_first, was_last, -1 FROM {rows}"
)
DELETED = "SELECT venue_id, first_day, last_day, -1 AS sign FROM {rows}"

# 0019's fold, with the visitor days added by the fold itself: widening a visitor is
# an UPDATE that reads the row as it was (a self-join: the fold is the only writer of
# venue_visitors, under its lock) and an INSERT of the new ones; a recount returns the
# rows it deletes and, by the same self-join, what it updates.
FOLD = f"""
CREATE FUNCTION footfall_fold(batch integer, only_venue bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    taken integer;
    gone_venues bigint[];
    gone_users bigint[];
    ids bigint[];
    venues bigint[];
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('footfall_fold'));
    IF only_venue IS NULL THEN
        SELECT array_agg(id), array_agg(DISTINCT venue_id) INTO ids, venues FROM (
            SELECT venue_id, id FROM venue_visit_changes ORDER BY id LIMIT batch) oldest;
    ELSE
        SELECT array_agg(id), array_agg(DISTINCT venue_id) INTO ids, venues FROM (
            SELECT venue_id, id FROM venue_visit_changes WHERE venue_id = only_venue
            ORDER BY id LIMIT batch) oldest;
    END IF;
    IF ids IS NULL THEN
        RETURN 0;
    END IF;
    WITH taken AS (
        DELETE FROM venue_visit_changes WHERE venue_id = ANY (venues) AND id = ANY (ids)
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
    ), added AS (
        SELECT venue_id, user_id, min(local_day) AS first_day, max(local_day) AS last_day
        FROM taken
        WHERE sign > 0
        GROUP BY venue_id, user_id
    ), widened AS (
        UPDATE venue_visitors v SET
            first_day = least(v.first_day, a.first_day),
            last_day = greatest(v.last_day, a.last_day)
        FROM added a, venue_visitors was
        WHERE v.venue_id = a.venue_id AND v.user_id = a.user_id
          AND was.venue_id = v.venue_id AND was.user_id = v.user_id
          AND (a.first_day < v.first_day OR a.last_day > v.last_day)
        RETURNING v.venue_id, v.first_day, v.last_day,
                  was.first_day AS was_first, was.last_day AS was_last
    ), arrived AS (
        INSERT INTO venue_visitors (venue_id, user_id, first_day, last_day)
        SELECT venue_id, user_id, first_day, last_day FROM added
        ORDER BY venue_id, user_id
        ON CONFLICT (venue_id, user_id) DO NOTHING
        RETURNING venue_id, first_day, last_day
    ), days AS ({
    DAYS_DELTA.format(
        changed=" UNION ALL ".join(
            [INSERTED.format(rows="arrived"), UPDATED.format(rows="widened")]
        )
    )
}
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
            RETURNING vv.venue_id, vv.first_day, vv.last_day
        ), recounted AS (
            UPDATE venue_visitors vv SET first_day = l.first_day, last_day = l.last_day
            FROM left_over l, venue_visitors was
            WHERE vv.venue_id = l.venue_id AND vv.user_id = l.user_id
              AND was.venue_id = vv.venue_id AND was.user_id = vv.user_id
              AND l.first_day IS NOT NULL
              AND (vv.first_day, vv.last_day) IS DISTINCT FROM (l.first_day, l.last_day)
            RETURNING vv.venue_id, vv.first_day, vv.last_day,
                      was.first_day AS was_first, was.last_day AS was_last
        ){
    DAYS_DELTA.format(
        changed=" UNION ALL ".join(
            [DELETED.format(rows="dropped"), UPDATED.format(rows="recounted")]
        )
    )
};
    END IF;
    RETURN taken;
END
$$
"""


def upgrade() -> None:
    for table, event in TRIGGERS:
        function = f"footfall_{table}_{event}"
        op.execute(f"DROP TRIGGER {function} ON {table}")
        op.execute(f"DROP FUNCTION {function}()")
    op.execute("DROP FUNCTION footfall_fold(integer, bigint)")
    op.execute(FOLD)
    op.drop_constraint("pk_venue_visit_changes", "venue_visit_changes", type_="primary")
    op.create_primary_key("pk_venue_visit_changes", "venue_visit_changes", ["venue_id", "id"])
    op.drop_index("ix_venue_visit_changes_venue", "venue_visit_changes")
    op.create_index("ix_venue_visit_changes_id", "venue_visit_changes", ["id"])
    op.drop_constraint("fk_venue_visits_user_id_users", "venue_visits", type_="foreignkey")
    op.create_foreign_key(
        "fk_venue_visits_user_id_users", "venue_visits", "users", ["user_id"], ["id"]
    )


def downgrade() -> None:
    op.drop_constraint("fk_venue_visits_user_id_users", "venue_visits", type_="foreignkey")
    op.create_foreign_key(
        "fk_venue_visits_user_id_users",
        "venue_visits",
        "users",
        ["user_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.drop_index("ix_venue_visit_changes_id", "venue_visit_changes")
    op.create_index("ix_venue_visit_changes_venue", "venue_visit_changes", ["venue_id", "id"])
    op.drop_constraint("pk_venue_visit_changes", "venue_visit_changes", type_="primary")
    op.create_primary_key("pk_venue_visit_changes", "venue_visit_changes", ["id"])
    op.execute("DROP FUNCTION footfall_fold(integer, bigint)")
    op.execute(FOLD_0019)
    bodies = {
        **SUMMARIES_0011.TRIGGERS,  # venue_visitors' (venue_visits' are 0016's)
        **{("venue_visits", event): body for event, body in UPKEEP_0016.APPENDS.items()},
    }
    for table, event in TRIGGERS:
        function = f"footfall_{table}_{event}"
        op.execute(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n{bodies[table, event]}\nRETURN NULL;\nEND\n$$"
        )
        op.execute(
            f"CREATE TRIGGER {function} AFTER {event.upper()} ON {table}"
            f" REFERENCING {SUMMARIES_0011.TRANSITIONS[event]}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
