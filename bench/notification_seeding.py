"""Seed the people of the notifications benchmark, and reset them before every run.

Three groups of senders, each sender with its own receivers (no one is the contact of two
senders, and senders are nobody's contact but their receivers'):

- ``a`` (fan-out): ``contacts`` mutual contacts, ``nearby`` of them with their latest
  check-in at a city venue 100-300 m from the sender's venue (near enough to be told,
  farther than the 75 m of a meeting), the rest in a "far" district ~25 km east of the
  city;
- ``b`` (no one near): ``contacts`` mutual contacts, all with their latest check-in in the
  far district;
- ``c`` (no contacts).

Every sender checks in at its own city venue, and no receiver ever checks in at a
sender's venue (no Crowd badge, no meeting). Receivers share location ``exact``, keep
``notify_nearby`` on with the default 1000 m radius, and have a daily cap of 100, so
neither the cap nor the 6-hour cooldown interferes within a run. Each receiver also has
``OLDER`` check-ins a day or more old at random city venues, so "latest" has to be found.

Users, contacts and the check-in plan are seeded once with COPY and set-based INSERT ...
SELECT (foreign-key triggers off: every id comes from rows just made) and kept while the
options match; ``refresh`` re-makes the receivers' check-ins relative to now and deletes
everything earlier runs left (check-ins, notifications, quotas, push deliveries, badges,
points, visits). Bench tables: ``bench_notify_senders``, ``bench_notify_receivers``,
``bench_notify_checkins`` (the plan) and ``bench_notify_seed`` (options and timings).
"""

import json
import random
import time

import psycopg
import seeding

HANDLE_PREFIX = "bnotify_"
HANDLE_LIKE = HANDLE_PREFIX.replace("_", "\\_") + "%"
GROUPS = ("a", "b", "c")
FAR_SOURCE = "bench_far"
FAR_EAST_DEG = 0.3  # the far district's centre: this far east of the city's easternmost venue
FAR_CENTRES = 40
NEAR_MIN_M, NEAR_MAX_M = 100.0, 300.0
MIN_NEAR_VENUES = 10
RECENT_AGE_S = (10 * 60, 150 * 60)
OLDER = 2
OLDER_AGE_S = (20 * 3600, 70 * 3600)
DAILY_CAP = 100
ACCURACY_M = 20.0
POINTS_PER_CHECKIN = 5

BENCH_USERS = (
    "SELECT user_id FROM bench_notify_senders UNION ALL SELECT user_id FROM bench_notify_receivers"
)
GRAPH_TABLES = ("relationships", "follows", "venues")  # what a run keeps of the bench users
PLAN_TABLES = "bench_notify_senders, bench_notify_receivers, bench_notify_checkins"


def seed_far_venues(conn: psycopg.Connection, count: int, seed: int = 5) -> dict | None:
    """COPY ``count`` venues into a far district (``source = 'bench_far'``), clustered like
    the city's, ~25 km east of it; None when already there."""
    existing = conn.execute("SELECT count(*) FROM venues WHERE source = %s", (FAR_SOURCE,))
    if existing.fetchone()[0] == count:
        return None
    started = time.perf_counter()
    lat, lon = conn.execute(
        "SELECT avg(ST_Y(location::geometry)), max(ST_X(location::geometry)) FROM venues"
        " WHERE source = %s",
        (seeding.SOURCE,),
    ).fetchone()
    rng = random.Random(seed)
    centres = [
        seeding.Centre(
            f"Far {index}",
            lat + rng.gauss(0, 0.01),
            lon + FAR_EAST_DEG + rng.gauss(0, 0.01),
            rng.uniform(50, 300),
        )
        for index in range(FAR_CENTRES)
    ]
    with conn.transaction():
        conn.execute("DELETE FROM venues WHERE source = %s", (FAR_SOURCE,))
        columns = "name, category, location, timezone, source"
        with conn.cursor().copy(f"COPY venues ({columns}) FROM STDIN") as copy:
            for name, category, vlat, vlon in seeding.bench_rows(centres, count, seed):
                point = f"SRID=4326;POINT({vlon} {vlat})"
                copy.write_row((name, category, point, seeding.TIMEZONE, FAR_SOURCE))
    conn.execute("ANALYZE venues")
    return {"far_venues": count, "total_s": round(time.perf_counter() - started, 2)}


def seeded_options(conn: psycopg.Connection) -> dict | None:
    """The options and timings of the seed in place (None if none)."""
    if not conn.execute("SELECT to_regclass('bench_notify_seed')").fetchone()[0]:
        return None
    row = conn.execute("SELECT options, timings FROM bench_notify_seed").fetchone()
    return {"options": row[0], "timings": row[1]} if row else None


def seed_people(conn: psycopg.Connection, options: dict) -> dict | None:
    """Seed senders, receivers, contacts and the check-in plan; timings, or None when a
    seed with the same ``options`` (senders, contacts, nearby, seed) is there.

    ``conn`` must be in autocommit mode (VACUUM). Anything earlier is removed first.
    """
    previous = seeded_options(conn)
    if previous and previous["options"] == options:
        return None
    started = time.perf_counter()
    drop_people(conn)
    rng = random.Random(options["seed"])
    per_group = options["senders"]
    sender_venues = _sender_venues(conn, len(GROUPS) * per_group, options["seed"])
    taken = {venue_id for venue_id, *_ in sender_venues}
    far = [row[0] for row in conn.execute("SELECT id FROM venues WHERE source = %s", (FAR_SOURCE,))]
    city = [
        row[0]
        for row in conn.execute("SELECT id FROM venues WHERE source = %s", (seeding.SOURCE,))
        if row[0] not in taken
    ]
    senders, receivers = [], []
    for index, (venue_id, lat, lon, near) in enumerate(sender_venues):
        group, ordinal = GROUPS[index // per_group], index % per_group
        handle = f"{HANDLE_PREFIX}s{group}{ordinal:04d}"
        senders.append((handle, group, ordinal, venue_id, lat, lon))
        contacts = 0 if group == "c" else options["contacts"]
        spots = [v for v in near if v not in taken]
        for k in range(contacts):
            is_near = group == "a" and k < options["nearby"]
            venue = rng.choice(spots) if is_near else rng.choice(far)
            receivers.append((f"{HANDLE_PREFIX}r{len(receivers):06d}", handle, is_near, venue))
    _copy_users(conn, senders, receivers)
    ids = dict(conn.execute("SELECT handle, id FROM users WHERE handle LIKE %s", (HANDLE_LIKE,)))
    _copy_plan(conn, senders, receivers, ids, city, rng)
    copied = time.perf_counter()
    _insert_contacts(conn)
    linked = time.perf_counter()
    for table in ("users", "relationships", "follows", *PLAN_TABLES.split(", ")):
        conn.execute(f"VACUUM ANALYZE {table}")
    timings = {
        "senders": len(senders),
        "receivers": len(receivers),
        "copy_s": round(copied - started, 2),
        "contacts_s": round(linked - copied, 2),
        "total_s": round(time.perf_counter() - started, 2),
    }
    conn.execute(
        "CREATE TABLE bench_notify_seed AS SELECT %s::jsonb AS options, %s::jsonb AS timings",
        (json.dumps(options), json.dumps(timings)),
    )
    return timings


def _sender_venues(conn: psycopg.Connection, count: int, seed: int) -> list[tuple]:
    """``count`` distinct city venues (fixed-seed random), each with at least
    ``MIN_NEAR_VENUES`` other city venues 100-300 m away: ``(id, lat, lon, [near ids])``."""
    rows = conn.execute(
        "WITH pool AS (SELECT id, location FROM venues WHERE source = %(src)s"
        "  ORDER BY md5(id::text || %(seed)s) LIMIT %(pool)s)"
        " SELECT p.id, ST_Y(p.location::geometry), ST_X(p.location::geometry),"
        "  array_agg(n.id ORDER BY n.id)"
        " FROM pool p JOIN venues n ON n.source = %(src)s"
        "  AND ST_DWithin(n.location, p.location, %(max)s)"
        "  AND NOT ST_DWithin(n.location, p.location, %(min)s)"
        " GROUP BY p.id, p.location HAVING count(*) >= %(enough)s"
        " ORDER BY md5(p.id::text || %(seed)s)",
        {
            "src": seeding.SOURCE,
            "seed": str(seed),
            "pool": count * 10,
            "max": NEAR_MAX_M,
            "min": NEAR_MIN_M,
            "enough": 2 * MIN_NEAR_VENUES,  # some may be other senders' venues
        },
    ).fetchall()
    if len(rows) < count:
        raise RuntimeError(f"only {len(rows)} dense enough sender venues; seed more venues")
    return rows[:count]


def _copy_users(conn: psycopg.Connection, senders: list, receivers: list) -> None:
    with conn.transaction():
        conn.execute("SET LOCAL synchronous_commit = off")
        columns = "handle, email, display_name, password_hash, location_sharing"
        columns += ", nearby_daily_cap"
        with conn.cursor().copy(f"COPY users ({columns}) FROM STDIN") as copy:
            for handle in [row[0] for row in senders] + [row[0] for row in receivers]:
                name = f"Notify {handle.removeprefix(HANDLE_PREFIX)}"
                # no password ("!"): bench users never log in, their tokens are minted
                copy.write_row((handle, f"{handle}@bench.invalid", name, "!", "exact", DAILY_CAP))


def _copy_plan(
    conn: psycopg.Connection,
    senders: list,
    receivers: list,
    ids: dict,
    city: list[int],
    rng: random.Random,
) -> None:
    with conn.transaction():
        conn.execute(
            "CREATE TABLE bench_notify_senders (user_id bigint PRIMARY KEY, grp char(1) NOT NULL,"
            " ordinal int NOT NULL, venue_id bigint NOT NULL, lat float8 NOT NULL,"
            " lon float8 NOT NULL)"
        )
        conn.execute(
            "CREATE TABLE bench_notify_receivers (user_id bigint PRIMARY KEY,"
            " sender_id bigint NOT NULL, near bool NOT NULL)"
        )
        conn.execute(
            "CREATE TABLE bench_notify_checkins (user_id bigint NOT NULL,"
            " venue_id bigint NOT NULL, age_s int NOT NULL)"
        )
        with conn.cursor().copy("COPY bench_notify_senders FROM STDIN") as copy:
            for handle, *rest in senders:
                copy.write_row((ids[handle], *rest))
        with conn.cursor().copy("COPY bench_notify_receivers FROM STDIN") as copy:
            for handle, sender, near, _venue in receivers:
                copy.write_row((ids[handle], ids[sender], near))
        with conn.cursor().copy("COPY bench_notify_checkins FROM STDIN") as copy:
            for handle, _sender, _near, venue in receivers:
                copy.write_row((ids[handle], venue, rng.randint(*RECENT_AGE_S)))
                for _ in range(OLDER):
                    copy.write_row((ids[handle], rng.choice(city), rng.randint(*OLDER_AGE_S)))


def _insert_contacts(conn: psycopg.Connection) -> None:
    """Both directions of every (sender, receiver) pair: mutual relationships and ``app``
    follows, as following each other in the app would leave them."""
    pairs = (
        "SELECT sender_id AS a, user_id AS b FROM bench_notify_receivers"
        " UNION ALL SELECT user_id, sender_id FROM bench_notify_receivers"
    )
    with conn.transaction():
        _bulk_session(conn)
        conn.execute(
            "INSERT INTO relationships (user_id, other_id, i_follow, they_follow)"
            f" SELECT a, b, true, true FROM ({pairs}) p ORDER BY 1, 2"
        )
        conn.execute(
            "INSERT INTO follows (follower_id, followee_id, via)"
            f" SELECT a, b, 'app' FROM ({pairs}) p ORDER BY 1, 2"
        )


def refresh(conn: psycopg.Connection) -> dict:
    """Delete what earlier runs left for the bench users (all rows referring to them but
    their contacts), reset their counters, and re-make the receivers' check-ins ``age_s``
    before now; then VACUUM ANALYZE. ``conn`` must be in autocommit mode."""
    started = time.perf_counter()
    with conn.transaction():
        _bulk_session(conn)
        seeding.clear_references(conn, "users", BENCH_USERS, keep=GRAPH_TABLES)
        conn.execute(
            "UPDATE relationships SET met_in_person = false, first_met_at = NULL, meetings = 0"
            " WHERE (met_in_person OR meetings > 0)"
            " AND user_id IN (SELECT user_id FROM bench_notify_senders)"
        )
        conn.execute(
            "UPDATE users u SET points = coalesce(plan.n, 0) * %(points)s,"
            " checkin_count = coalesce(plan.n, 0), eligible_checkins = coalesce(plan.n, 0),"
            " last_timezone = NULL"
            f" FROM ({BENCH_USERS}) bench LEFT JOIN"
            " (SELECT user_id, count(*) AS n FROM bench_notify_checkins GROUP BY 1) plan"
            " USING (user_id) WHERE u.id = bench.user_id",
            {"points": POINTS_PER_CHECKIN},
        )
        deleted = time.perf_counter()
        inserted = conn.execute(
            "INSERT INTO checkins (user_id, venue_id, location, accuracy_m, private,"
            " effective_at, local_day, eligible, reasons, points, created_at)"
            " SELECT p.user_id, p.venue_id, v.location, %(accuracy)s, false, t.at,"
            " (t.at AT TIME ZONE v.timezone)::date, true, '[]'::jsonb, %(points)s, t.at"
            " FROM bench_notify_checkins p JOIN venues v ON v.id = p.venue_id"
            " CROSS JOIN LATERAL (SELECT now() - p.age_s * interval '1 second' AS at) t"
            " ORDER BY p.user_id, t.at",
            {"accuracy": ACCURACY_M, "points": POINTS_PER_CHECKIN},
        ).rowcount
    seeding.rebuild_last_seen(conn)
    done = time.perf_counter()
    conn.execute("VACUUM ANALYZE checkins, notifications, nearby_quotas, push_deliveries")
    conn.execute("VACUUM ANALYZE users, relationships")
    return {
        "checkins": inserted,
        "delete_s": round(deleted - started, 2),
        "insert_s": round(done - deleted, 2),
        "total_s": round(time.perf_counter() - started, 2),
    }


def facts(conn: psycopg.Connection) -> dict:
    """Sizes, and the distances that make the groups what they claim to be."""
    row = conn.execute(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM venues),"
        " (SELECT count(*) FROM relationships), (SELECT count(*) FROM checkins),"
        " (SELECT min(ST_Distance(v.location, s.location)) FROM bench_notify_senders b"
        "  JOIN venues s ON s.id = b.venue_id JOIN bench_notify_receivers r"
        "  ON r.sender_id = b.user_id AND NOT r.near JOIN bench_notify_checkins c"
        "  ON c.user_id = r.user_id AND c.age_s < %(recent)s JOIN venues v ON v.id = c.venue_id),"
        " (SELECT max(ST_Distance(v.location, s.location)) FROM bench_notify_senders b"
        "  JOIN venues s ON s.id = b.venue_id JOIN bench_notify_receivers r"
        "  ON r.sender_id = b.user_id AND r.near JOIN bench_notify_checkins c"
        "  ON c.user_id = r.user_id AND c.age_s < %(recent)s JOIN venues v ON v.id = c.venue_id)",
        {"recent": RECENT_AGE_S[1] + 1},
    ).fetchone()
    keys = ("users", "venues", "relationships", "checkins", "far_min_m", "near_max_m")
    values = [round(v) if isinstance(v, float) else v for v in row]
    return dict(zip(keys, values, strict=True))


def senders(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    """Per group, its senders in order: ``(user_id, venue_id, lat, lon)``."""
    by_group: dict[str, list[tuple]] = {group: [] for group in GROUPS}
    for group, *row in conn.execute(
        "SELECT grp, user_id, venue_id, lat, lon FROM bench_notify_senders ORDER BY grp, ordinal"
    ):
        by_group[group].append(tuple(row))
    return by_group


def stream_users(conn: psycopg.Connection, count: int) -> list[int]:
    """``count`` receivers (of fan-out senders first) to open notification streams as."""
    ids = [
        row[0]
        for row in conn.execute(
            "SELECT r.user_id FROM bench_notify_receivers r"
            " JOIN bench_notify_senders s ON s.user_id = r.sender_id"
            " ORDER BY s.grp, r.user_id LIMIT %s",
            (count,),
        )
    ]
    if len(ids) < count:
        raise RuntimeError(f"only {len(ids)} receivers for {count} streams: seed more senders")
    return ids


def _bulk_session(conn: psycopg.Connection) -> None:
    """One bulk transaction's settings; ``replica`` skips the foreign-key triggers."""
    conn.execute("SET LOCAL synchronous_commit = off")
    conn.execute("SET LOCAL work_mem = '256MB'")
    conn.execute("SET LOCAL session_replication_role = replica")


def drop_people(conn: psycopg.Connection) -> None:
    """Remove an earlier (maybe partial) seed: bench users, all that refers to them, the
    plan tables. ``conn`` must be in autocommit mode."""
    with conn.transaction():
        _bulk_session(conn)
        conn.execute(
            "CREATE TEMP TABLE bench_doomed ON COMMIT DROP AS"
            " SELECT id AS user_id FROM users WHERE handle LIKE %s",
            (HANDLE_LIKE,),
        )
        conn.execute("ANALYZE bench_doomed")
        seeding.clear_references(conn, "users", "SELECT user_id FROM bench_doomed")
        conn.execute("DELETE FROM users WHERE id IN (SELECT user_id FROM bench_doomed)")
        conn.execute(f"DROP TABLE IF EXISTS {PLAN_TABLES}, bench_notify_seed")
