"""Seed the people of the nearby-contacts benchmark: users, mutual contacts, check-ins.

Users live where the venues are: each one's home is a random bench venue (so users
cluster like venues), and their check-ins are at bench venues in the same ~550 m cell.
Contacts are symmetric: users are laid on a ring in a fixed-seed random order and each is
the mutual contact of the ``contacts / 2`` users on either side, so everyone has exactly
``contacts`` contacts, spread over the whole city. Both directions get a
``relationships`` row (``i_follow`` and ``they_follow``, so ``mutual``) and an ``app``
``follows`` row, as following each other in the app would.

Users, the ring and the check-in plan are seeded once with COPY (skipped when present);
the check-ins themselves are re-made from the plan on every run (``refresh_checkins``),
at times relative to now, after deleting whatever earlier runs left (their check-ins,
meetings, points), so "recent" is always recent and every run starts from the same state.

Bench tables: ``bench_social_users`` (user, ring position, home venue),
``bench_social_checkins`` (the plan: user, venue, age in seconds, private) and
``bench_social_seed`` (when the seed was made and how long each step took).
"""

import json
import math
import random
import time
from collections import defaultdict

import psycopg
import seeding

HANDLE_PREFIX = "bench_u"  # not a hex digit: never clashes with apiserver.register_user
HANDLE_LIKE = HANDLE_PREFIX.replace("_", "\\_") + "%"
SHARING_MIX = (("exact", 0.75), ("approximate", 0.20), ("off", 0.05))
PRIVATE_SHARE = 0.10
CELL_M = 550.0  # check-ins are at venues in the home's cell
MIN_AGE_S = 10 * 60  # the newest check-in is at least this old (see refresh_checkins)
MAX_AGE_S = 175 * 60  # ... and the oldest within the 3-hour "recent" window
ACCURACY_M = 20.0
POINTS_PER_CHECKIN = 5

BENCH_USERS = "SELECT user_id FROM bench_social_users"
# What a run keeps of the bench users; everything else that refers to them is re-made.
GRAPH_TABLES = ("relationships", "follows", "venues")


def handle(index: int) -> str:
    """The handle of bench user number ``index``."""
    return f"{HANDLE_PREFIX}{index:06d}"


def social_state(conn: psycopg.Connection) -> tuple[int, int, int]:
    """``(users, mutual relationship rows, planned check-ins at existing venues)`` already
    seeded (0s if none)."""
    if not conn.execute("SELECT to_regclass('bench_social_checkins')").fetchone()[0]:
        return 0, 0, 0
    return conn.execute(
        "SELECT (SELECT count(*) FROM users WHERE handle LIKE %s),"
        f" (SELECT count(*) FROM relationships WHERE mutual AND user_id IN ({BENCH_USERS})),"
        " (SELECT count(*) FROM bench_social_checkins p"
        "  WHERE EXISTS (SELECT FROM venues v WHERE v.id = p.venue_id))",
        (HANDLE_LIKE,),
    ).fetchone()


def seed_social(
    conn: psycopg.Connection, users: int, contacts: int, checkins_per_user: int, seed: int = 3
) -> dict | None:
    """Seed users, contacts and the check-in plan; timings, or None when already there.

    ``conn`` must be in autocommit mode (VACUUM). Anything partial is removed first.
    """
    if contacts % 2 or contacts >= users:
        raise ValueError("contacts must be even and smaller than users")
    want = (users, users * contacts, users * checkins_per_user)
    if tuple(social_state(conn)) == want:
        return None
    timings: dict[str, float] = {}
    started = mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        timings[name] = round(now - mark, 2)
        mark = now
        print(f"  {name}: {timings[name]} s", flush=True)

    drop_social(conn)
    lap("delete_previous_s")
    rng = random.Random(seed)
    venues = conn.execute(
        "SELECT id, ST_Y(location::geometry), ST_X(location::geometry) FROM venues"
        " WHERE source = 'bench' AND deleted_at IS NULL ORDER BY id"
    ).fetchall()
    if not venues:
        raise RuntimeError("no bench venues: seed venues first")
    cells = _cells(venues)
    lap("read_venues_s")

    sharing = [_pick_sharing(rng) for _ in range(users)]
    with conn.transaction():
        conn.execute("SET LOCAL synchronous_commit = off")
        columns = "handle, email, display_name, password_hash, location_sharing, points"
        columns += ", checkin_count"
        with conn.cursor().copy(f"COPY users ({columns}) FROM STDIN") as copy:
            for index in range(users):
                name = handle(index)
                copy.write_row(
                    (
                        name,
                        f"{name}@bench.invalid",
                        f"Bench User {index}",
                        "!",  # no password: bench users never log in
                        sharing[index],
                        POINTS_PER_CHECKIN * checkins_per_user,
                        checkins_per_user,
                    )
                )
    lap("copy_users_s")

    ids = [
        row[0]
        for row in conn.execute(
            "SELECT id FROM users WHERE handle LIKE %s ORDER BY handle", (HANDLE_LIKE,)
        )
    ]
    ring = list(range(users))
    rng.shuffle(ring)
    homes = [venues[rng.randrange(len(venues))] for _ in range(users)]
    with conn.transaction():
        conn.execute(
            "CREATE TABLE bench_social_users (user_id bigint PRIMARY KEY, pos int NOT NULL,"
            " home_venue_id bigint NOT NULL)"
        )
        conn.execute(
            "CREATE TABLE bench_social_checkins (user_id bigint NOT NULL,"
            " venue_id bigint NOT NULL, age_s int NOT NULL, private bool NOT NULL)"
        )
        with conn.cursor().copy("COPY bench_social_users FROM STDIN") as copy:
            for user_id, pos, home in zip(ids, ring, homes, strict=True):
                copy.write_row((user_id, pos, home[0]))
        with conn.cursor().copy("COPY bench_social_checkins FROM STDIN") as copy:
            for user_id, home in zip(ids, homes, strict=True):
                nearby = cells[_cell(home[1], home[2])]
                for _ in range(checkins_per_user):
                    age = rng.randint(MIN_AGE_S, MAX_AGE_S)
                    copy.write_row((user_id, rng.choice(nearby), age, rng.random() < PRIVATE_SHARE))
        conn.execute("CREATE UNIQUE INDEX ON bench_social_users (pos)")
    lap("copy_plan_s")

    with conn.transaction():
        _bulk_session(conn)
        conn.execute(
            "INSERT INTO relationships (user_id, other_id, i_follow, they_follow)"
            " SELECT a.user_id, b.user_id, true, true"
            " FROM bench_social_users a"
            " CROSS JOIN generate_series(-%(half)s::int, %(half)s::int) AS k"
            " JOIN bench_social_users b"
            " ON b.pos = ((a.pos + k) %% %(n)s::int + %(n)s::int) %% %(n)s::int"
            " WHERE k <> 0 ORDER BY 1, 2",
            {"half": contacts // 2, "n": users},
        )
    lap("insert_relationships_s")
    with conn.transaction():
        _bulk_session(conn)
        conn.execute(
            "INSERT INTO follows (follower_id, followee_id, via)"
            f" SELECT user_id, other_id, 'app' FROM relationships WHERE user_id IN ({BENCH_USERS})"
            " ORDER BY 1, 2"
        )
    lap("insert_follows_s")
    for table in ("users", "relationships", "follows", "bench_social_users"):
        conn.execute(f"VACUUM ANALYZE {table}")
    conn.execute("ANALYZE bench_social_checkins")
    lap("vacuum_analyze_s")
    timings["total_s"] = round(time.perf_counter() - started, 2)
    seed = {"users": users, "contacts_per_user": contacts, **timings}
    conn.execute(
        "CREATE TABLE bench_social_seed AS SELECT now() AS made_at, %s::jsonb AS timings",
        (json.dumps(seed),),
    )
    return seed


def previous_seed(conn: psycopg.Connection) -> dict | None:
    """When the users and contacts in place were seeded, and how long it took."""
    if not conn.execute("SELECT to_regclass('bench_social_seed')").fetchone()[0]:
        return None
    row = conn.execute("SELECT made_at, timings FROM bench_social_seed").fetchone()
    return {"made_at": row[0].isoformat(timespec="seconds"), **row[1]} if row else None


def refresh_checkins(conn: psycopg.Connection) -> dict:
    """Re-make the bench users' check-ins from the plan, ``age_s`` before now.

    Deletes everything earlier runs left for bench users first (every row of another
    table that refers to them except their contacts: check-ins, points, meetings, badges,
    visits...; met-in-person flags and counters are reset), then VACUUM ANALYZE.
    ``conn`` must be in autocommit mode.
    """
    started = time.perf_counter()
    with conn.transaction():
        _bulk_session(conn)
        seeding.clear_references(conn, "users", BENCH_USERS, keep=GRAPH_TABLES)
        conn.execute(
            "UPDATE relationships SET met_in_person = false, first_met_at = NULL, meetings = 0"
            f" WHERE (met_in_person OR meetings > 0) AND user_id IN ({BENCH_USERS})"
        )
        conn.execute(
            "UPDATE users u SET points = plan.n * %(points)s, checkin_count = plan.n"
            " FROM (SELECT user_id, count(*) AS n FROM bench_social_checkins GROUP BY 1) plan"
            " WHERE u.id = plan.user_id"
            " AND (u.points <> plan.n * %(points)s OR u.checkin_count <> plan.n)",
            {"points": POINTS_PER_CHECKIN},
        )
        deleted = time.perf_counter()
        inserted = conn.execute(
            "INSERT INTO checkins (user_id, venue_id, location, accuracy_m, private, shared,"
            " effective_at, local_day, eligible, reasons, points, created_at)"
            " SELECT p.user_id, p.venue_id, v.location, %(accuracy)s, p.private, NOT p.private,"
            " t.at,"
            " (t.at AT TIME ZONE v.timezone)::date, true, '[]'::jsonb, %(points)s, t.at"
            " FROM bench_social_checkins p JOIN venues v ON v.id = p.venue_id"
            " CROSS JOIN LATERAL (SELECT now() - p.age_s * interval '1 second' AS at) t"
            " ORDER BY p.user_id, t.at",
            {"accuracy": ACCURACY_M, "points": POINTS_PER_CHECKIN},
        ).rowcount
    seeding.rebuild_last_seen(conn)
    done = time.perf_counter()
    conn.execute("VACUUM ANALYZE checkins")
    # Rows reset above: keep the visibility map whole (index-only scans of contacts).
    conn.execute("VACUUM relationships, users")
    analysed = time.perf_counter()
    return {
        "checkins": inserted,
        "delete_s": round(deleted - started, 2),
        "insert_s": round(done - deleted, 2),
        "vacuum_analyze_s": round(analysed - done, 2),
        "total_s": round(analysed - started, 2),
    }


def _bulk_session(conn: psycopg.Connection) -> None:
    """Settings for one bulk transaction. ``replica`` skips the foreign-key triggers:
    every id comes from tables seeded just before, so the checks could only pass."""
    conn.execute("SET LOCAL synchronous_commit = off")
    conn.execute("SET LOCAL work_mem = '256MB'")
    conn.execute("SET LOCAL session_replication_role = replica")


def drop_social(conn: psycopg.Connection) -> None:
    """Remove a previous (maybe partial) seed: the bench users and all that refers to them.

    Letting ``DELETE FROM users`` cascade would run each foreign key's action once per
    user, and some referencing columns have no index (``venues.created_by``): hours at
    100 k users. ``seeding.clear_references`` does each in one statement, then the users
    go. ``conn`` must be in autocommit mode.
    """
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
        conn.execute(
            "DROP TABLE IF EXISTS bench_social_users, bench_social_checkins, bench_social_seed"
        )


def _pick_sharing(rng: random.Random) -> str:
    draw = rng.random()
    for value, share in SHARING_MIX:
        if draw < share:
            return value
        draw -= share
    return SHARING_MIX[0][0]


def _cell(lat: float, lon: float) -> tuple[int, int]:
    """A ~CELL_M square grid cell (longitude steps widen with latitude)."""
    step = CELL_M / 111_320.0
    return (
        math.floor(lat / step),
        math.floor(lon * math.cos(math.radians(lat)) / step),
    )


def _cells(venues: list[tuple]) -> dict[tuple[int, int], list[int]]:
    cells: dict[tuple[int, int], list[int]] = defaultdict(list)
    for venue_id, lat, lon in venues:
        cells[_cell(lat, lon)].append(venue_id)
    return cells
