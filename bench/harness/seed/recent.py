"""The world's recent check-ins, re-made relative to now at every run (README)."""

import psycopg

from bench.harness.database import Laps, bulk, rebuild_last_seen

PLAN = "bench_scale_recent_plan"
IDS = "bench_scale_recent_ids"
POINTS = 5
ACCURACY_M = 20.0
MIN_AGE_S, MAX_AGE_S = 10 * 60, 175 * 60  # within the 3-hour "recent" window
PRIVATE_SHARE = 0.10
ACTIVE_WINDOW = "3 hours"  # a user who checked in this recently is not dealt again


def make_plan(conn: psycopg.Connection, per_user: int, busy_venue_id: int) -> dict:
    """(Re)make the plan of recent check-ins; how many, and the seconds it took."""
    laps = Laps()
    conn.execute(f"DROP TABLE IF EXISTS {PLAN}, {IDS}")
    conn.execute(
        f"CREATE TABLE {PLAN} AS SELECT p.user_id, pick.venue_id,"
        " (%(low)s + floor(random() * (%(high)s - %(low)s)))::int AS age_s,"
        " random() < %(private)s AS private"
        " FROM bench_checkins_plan p CROSS JOIN LATERAL ("
        "  SELECT v AS venue_id FROM unnest(p.nearby) AS v WHERE v <> %(busy)s"
        "  ORDER BY random() LIMIT %(n)s) pick",
        {"low": MIN_AGE_S, "high": MAX_AGE_S, "private": PRIVATE_SHARE, "busy": busy_venue_id,
         "n": per_user},
    )  # fmt: skip
    conn.execute(f"CREATE INDEX ON {PLAN} (user_id)")
    conn.execute(f"CREATE TABLE {IDS} (user_id bigint NOT NULL, id bigint PRIMARY KEY)")
    conn.execute(f"ANALYZE {PLAN}")
    rows = conn.execute(f"SELECT count(*) FROM {PLAN}").fetchone()[0]
    return {"checkins": rows, "total_s": laps.total()["total_s"]}


def refresh(conn: psycopg.Connection) -> dict:
    """Delete the previous recent check-ins and insert them again relative to now."""
    laps = Laps()
    with conn.transaction():
        bulk(conn)
        deleted = _delete_previous(conn)
        laps("delete_s")
        # the transaction's now() as a value and the ids kept in a second statement:
        # Citus evaluates no now() in a subquery without FROM, nor feeds a local insert
        # from a distributed one
        now = conn.execute("SELECT now()").fetchone()[0]
        made = conn.execute(
            "INSERT INTO checkins (user_id, venue_id, location, accuracy_m, private, shared,"
            " effective_at, local_day, eligible, reasons, points, created_at)"
            " SELECT p.user_id, p.venue_id, v.location, %(accuracy)s, p.private, NOT p.private,"
            " p.at, (p.at AT TIME ZONE v.timezone)::date, true, '[]'::jsonb, %(points)s, p.at"
            " FROM (SELECT user_id, venue_id, private,"
            f" %(now)s::timestamptz - age_s * interval '1 second' AS at FROM {PLAN}) p"
            " JOIN venues v ON v.id = p.venue_id ORDER BY p.at RETURNING user_id, id",
            {"accuracy": ACCURACY_M, "points": POINTS, "now": now},
        ).fetchall()
        conn.execute(
            f"INSERT INTO {IDS} (user_id, id) SELECT * FROM unnest(%s::bigint[], %s::bigint[])",
            ([row[0] for row in made], [row[1] for row in made]),
        )
        inserted = len(made)
        _counters(conn, +1)
    rebuild_last_seen(conn)
    laps("insert_s")
    # INDEX_CLEANUP ON: with dead rows on under 2 % of the pages VACUUM would skip the
    # indexes and leave those pages not all-visible (index-only scans would visit them).
    conn.execute("VACUUM (INDEX_CLEANUP ON) checkins, venue_visits")
    conn.execute("VACUUM ANALYZE")
    laps("vacuum_analyze_s")
    return laps.total(deleted=deleted, inserted=inserted)


def _delete_previous(conn: psycopg.Connection) -> int:
    """Delete the previous run's recent check-ins and what refers to them; how many."""
    count = conn.execute(f"SELECT count(*) FROM {IDS}").fetchone()[0]
    if count:
        _counters(conn, -1)
        # IN (a subquery), not a join: Citus joins no distributed table with a local one
        conn.execute(
            "DELETE FROM points_ledger WHERE (user_id, checkin_id) IN"
            f" (SELECT user_id, id FROM {IDS})"
        )
        conn.execute(
            f"DELETE FROM meetings WHERE checkin_id IN (SELECT id FROM {IDS})"
            f" OR other_checkin_id IN (SELECT id FROM {IDS})"
        )
        conn.execute(f"DELETE FROM checkins WHERE (user_id, id) IN (SELECT user_id, id FROM {IDS})")
        conn.execute(f"TRUNCATE {IDS}")
    return count


def _counters(conn: psycopg.Connection, sign: int) -> None:
    """Add (or take back) the recent check-ins' share of the users' counters."""
    conn.execute(
        "UPDATE users u SET checkin_count = u.checkin_count + %(s)s * r.n,"
        " eligible_checkins = u.eligible_checkins + %(s)s * r.n,"
        " points = u.points + %(s)s * %(points)s * r.n"
        f" FROM (SELECT user_id, count(*) AS n FROM {IDS} GROUP BY 1) r WHERE u.id = r.user_id",
        {"s": sign, "points": POINTS},
    )


def recently_active(conn: psycopg.Connection, history_max_id: int) -> set[int]:
    """Find users who checked in lately beyond their recent check-ins (``too_soon``)."""
    rows = conn.execute(
        "SELECT user_id, id FROM checkins"
        f" WHERE id > %s AND created_at > now() - interval '{ACTIVE_WINDOW}'",
        (history_max_id - 100_000,),
    ).fetchall()
    # the recent ones left out here: NOT IN over 300 k ids ran for hours, and Citus
    # refuses NOT EXISTS against a local table
    made = {row[0] for row in conn.execute(f"SELECT id FROM {IDS}")}
    return {user_id for user_id, checkin_id in rows if checkin_id not in made}
