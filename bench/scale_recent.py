"""The recent check-ins of ``scale.py``'s world: what nearby contacts and meeting
detection see, re-made relative to now at the start of every run.

``make_plan`` (once, with the history) gives every user ``per_user`` check-ins at
distinct venues among the 40 nearest their home (``bench_checkins_plan.nearby``, the busy
venue left out so its footfall stays the seeded year), each 10 to 175 minutes old at
refresh time, ~10 % private (``social_seeding``'s ages and share). ``refresh`` deletes
the previous run's recent check-ins (with the ledger lines and meetings later check-ins
made with them, and their share of the users' counters) and inserts them again, ``age_s``
before now: eligible, 5 points, accuracy 20 m, at the venue's point. Their ids are kept
in ``bench_scale_recent_ids``. Everything else earlier runs wrote (their check-ins and
what those earned) stays: the world keeps growing a little, as a live one does, and
``recently_active`` tells which users must not check in again soon.
"""

import time

import psycopg
import seeding
import social_seeding

PLAN = "bench_scale_recent_plan"
IDS = "bench_scale_recent_ids"
POINTS = social_seeding.POINTS_PER_CHECKIN
ACTIVE_WINDOW = "3 hours"  # a user who checked in this recently is not dealt again


def make_plan(conn: psycopg.Connection, per_user: int, busy_venue_id: int) -> dict:
    """(Re)make the plan of recent check-ins; how many and how long it took."""
    started = time.perf_counter()
    conn.execute(f"DROP TABLE IF EXISTS {PLAN}, {IDS}")
    conn.execute(
        f"CREATE TABLE {PLAN} AS SELECT p.user_id, pick.venue_id,"
        " (%(low)s + floor(random() * (%(high)s - %(low)s)))::int AS age_s,"
        " random() < %(private)s AS private"
        " FROM bench_checkins_plan p CROSS JOIN LATERAL ("
        "  SELECT v AS venue_id FROM unnest(p.nearby) AS v WHERE v <> %(busy)s"
        "  ORDER BY random() LIMIT %(n)s) pick",
        {
            "low": social_seeding.MIN_AGE_S,
            "high": social_seeding.MAX_AGE_S,
            "private": social_seeding.PRIVATE_SHARE,
            "busy": busy_venue_id,
            "n": per_user,
        },
    )
    conn.execute(f"CREATE INDEX ON {PLAN} (user_id)")
    conn.execute(f"CREATE TABLE {IDS} (user_id bigint NOT NULL, id bigint PRIMARY KEY)")
    conn.execute(f"ANALYZE {PLAN}")
    rows = conn.execute(f"SELECT count(*) FROM {PLAN}").fetchone()[0]
    return {"checkins": rows, "total_s": round(time.perf_counter() - started, 2)}


def refresh(conn: psycopg.Connection) -> dict:
    """Delete the previous recent check-ins and insert them again relative to now, then
    VACUUM what the previous run wrote (the server's autovacuum may be off); timings."""
    started = time.perf_counter()
    with conn.transaction():
        social_seeding._bulk_session(conn)
        deleted = _delete_previous(conn)
        removed = time.perf_counter()
        inserted = conn.execute(
            f"WITH made AS (INSERT INTO checkins (user_id, venue_id, location, accuracy_m,"
            " private, shared, effective_at, local_day, eligible, reasons, points, created_at)"
            " SELECT p.user_id, p.venue_id, v.location, %(accuracy)s, p.private, NOT p.private,"
            " t.at,"
            " (t.at AT TIME ZONE v.timezone)::date, true, '[]'::jsonb, %(points)s, t.at"
            f" FROM {PLAN} p JOIN venues v ON v.id = p.venue_id"
            " CROSS JOIN LATERAL (SELECT now() - p.age_s * interval '1 second' AS at) t"
            " ORDER BY t.at RETURNING user_id, id)"
            f" INSERT INTO {IDS} (user_id, id) SELECT user_id, id FROM made",
            {"accuracy": social_seeding.ACCURACY_M, "points": POINTS},
        ).rowcount
        _counters(conn, +1)
    seeding.rebuild_last_seen(conn)
    made = time.perf_counter()
    # INDEX_CLEANUP ON: with dead rows on under 2 % of the pages VACUUM would skip the
    # indexes and leave those pages not all-visible (index-only scans would visit them).
    conn.execute("VACUUM (INDEX_CLEANUP ON) checkins, venue_visits")
    conn.execute("VACUUM ANALYZE")
    done = time.perf_counter()
    return {
        "deleted": deleted,
        "inserted": inserted,
        "delete_s": round(removed - started, 2),
        "insert_s": round(made - removed, 2),
        "vacuum_analyze_s": round(done - made, 2),
        "total_s": round(done - started, 2),
    }


def _delete_previous(conn: psycopg.Connection) -> int:
    """The previous run's recent check-ins and what refers to them; how many."""
    count = conn.execute(f"SELECT count(*) FROM {IDS}").fetchone()[0]
    if not count:
        return 0
    _counters(conn, -1)
    conn.execute(
        f"DELETE FROM points_ledger l USING {IDS} d"
        " WHERE l.user_id = d.user_id AND l.checkin_id = d.id"
    )
    conn.execute(
        f"DELETE FROM meetings WHERE checkin_id IN (SELECT id FROM {IDS})"
        f" OR other_checkin_id IN (SELECT id FROM {IDS})"
    )
    conn.execute(
        f"DELETE FROM checkins c USING {IDS} d WHERE c.user_id = d.user_id AND c.id = d.id"
    )
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
    """Users with a check-in of an earlier run (not a recent one) in the last 3 hours, or
    at the end of the seeded history: dealing them again could meet ``too_soon``."""
    rows = conn.execute(
        "SELECT DISTINCT user_id FROM checkins c"  # NOT EXISTS: an anti-join; NOT IN
        f" WHERE id > %s AND created_at > now() - interval '{ACTIVE_WINDOW}'"  # over 300 k
        f" AND NOT EXISTS (SELECT FROM {IDS} r WHERE r.id = c.id)",  # ids ran for hours
        (history_max_id - 100_000,),
    ).fetchall()
    return {row[0] for row in rows}


def facts(conn: psycopg.Connection) -> dict:
    """Recent check-ins in place: all, visible (public), and users with one."""
    row = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE NOT k.private), count(DISTINCT k.user_id)"
        f" FROM {IDS} r JOIN checkins k ON k.user_id = r.user_id AND k.id = r.id"
    ).fetchone()
    return {"recent_checkins": row[0], "recent_visible": row[1], "users_with_recent": row[2]}
