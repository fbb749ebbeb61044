"""Seed a year of check-in history for the check-in throughput benchmark.

People live where the venues are: each user's home is a random bench venue, their
favourite venues (2 to 8) are among the 15 venues nearest it, and about 80 % of their
check-ins are at a favourite (the first ones most often), the rest at one of the 40
venues nearest home. How many check-ins a user has is log-normal around
``history / users`` (a few heavy users, many light ones, some with none). Times are
spread over the past year, on a daily curve (few at night, peaks at lunch and evening),
and the newest is about a day old. About 4 % are ineligible (``imprecise``), 5 %
private; an eligible check-in earns 5 points, 15 at the user's first eligible visit to
the venue.

The check-ins are generated with numpy, sorted by time (ids and the heap follow arrival
order, as in production, so a user's rows are spread over the table) and COPYed into
``checkins`` with ``FREEZE`` inside the transaction that emptied it, its indexes and
primary key dropped first and rebuilt after from the definitions the migrations made
(read from the catalogue). Then the state the rewards code keeps is derived from them
with ``INSERT ... SELECT``: ``user_venues``, ``venue_visit_days``, ``user_cities``
(``venues.city`` is filled the way the service fills it, with ``geo.cities.city_of``),
the current mayors (``venue_mayors``, ``mayorship_changes``), the badges a user already
holds (``user_badges``: newbie, regular, explorer, superstar, local, night owl, early
bird, streak 7, mayor) and ``users.points`` / ``checkin_count`` / ``eligible_checkins``.
The points ledger is not back-filled: nothing a check-in does reads it. ``seed_history``
can merge more check-ins into the history (``extra``: ``scale.py``'s busy venue) before
it is sorted and derived from. Optionally every user gets
``contacts`` mutual contacts (a ring, as ``social_seeding`` makes them), so a check-in
takes its pair locks and runs meeting detection as it would at the product's scale.

Bench tables: ``bench_checkins_seed`` (the options the history was made with, and how
long it took; the seed is skipped when they match) and ``bench_checkins_plan`` (each
user's favourite and nearby venues, from which the benchmark's requests are drawn).
"""

import json
import sys
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
import seeding
from scipy.spatial import cKDTree

if str(seeding.ROOT) not in sys.path:
    sys.path.insert(0, str(seeding.ROOT))

from geo import rules
from geo.cities import city_of
from geo.coords import LatLon

HANDLE_PREFIX = "ck_u"
MARK = "bench_checkins_seed"
PLAN = "bench_checkins_plan"
TIMEZONE = seeding.TIMEZONE  # every bench venue's time zone
FAVOURITES_FROM = 15  # favourites are among this many venues nearest home
MAX_FAVOURITES = 8
NEARBY = 40  # the other venues a user goes to: this many nearest home
FAVOURITE_SHARE = 0.8
INELIGIBLE_SHARE = 0.04
PRIVATE_SHARE = 0.05
SHARING_MIX = (("exact", 0.75), ("approximate", 0.20), ("off", 0.05))
POINTS_CHECKIN, POINTS_FIRST_VISIT, POINTS_MAYORSHIP = 5, 10, 25
DAYS = 365
CHUNK = 250_000
# Share of check-ins in each local hour (a weekday curve: lunch and evening peaks).
HOURS = np.array(
    [2, 1, 1, 0.5, 0.5, 1, 2, 4, 6, 6, 6, 7, 9, 8, 6, 5, 5, 6, 8, 9, 8, 6, 4, 3], dtype=float
)
CHECKIN_COLUMNS = (
    "user_id, venue_id, location, accuracy_m, private, shared, effective_at, local_day,"
    " eligible, reasons, points, created_at"
)


def seeded_options(conn: psycopg.Connection) -> dict | None:
    """The options of the history already in the database (None if there is none)."""
    if not conn.execute("SELECT to_regclass(%s)", (MARK,)).fetchone()[0]:
        return None
    row = conn.execute(f"SELECT options, timings FROM {MARK}").fetchone()
    return None if row is None else {"options": row[0], "timings": row[1]}


def seed_history(
    conn: psycopg.Connection,
    *,
    venues: int,
    users: int,
    history: int,
    contacts: int,
    seed: int = 11,
    extra: tuple | None = None,
) -> dict | None:
    """Seed users, their history and the derived rewards state; timings, or None when the
    database already holds this very history. ``conn`` must be in autocommit mode.

    ``extra`` (optional) is ``(options, make)``: more check-ins merged into the history
    before it is sorted, copied and derived from; ``make(user_ids, venue_ids, lat, lon)``
    returns them as ``merge_extra`` describes, and ``options`` (JSON) joins the seed's."""
    options = {
        "venues": venues,
        "users": users,
        "history": history,
        "contacts": contacts,
        "seed": seed,
    }
    if extra is not None:
        options["extra"] = extra[0]
    previous = seeded_options(conn)
    if previous and previous["options"] == options:
        return None
    if contacts % 2 or contacts >= users:
        raise ValueError("contacts must be even and smaller than users")
    timings: dict[str, float] = {}
    started = mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        timings[name] = round(now - mark, 2)
        mark = now
        print(f"  {name}: {timings[name]} s", flush=True)

    rng = np.random.default_rng(seed)
    venue_ids, lat, lon, ewkb = _read_venues(conn, venues)
    lap("read_venues_s")
    _fill_cities(conn, venue_ids, lat, lon)
    lap("venue_cities_s")
    plan = _plan(rng, lat, lon, users, history)
    lap("plan_s")
    with conn.transaction():
        _bulk(conn)
        conn.execute(f"DROP TABLE IF EXISTS {MARK}, {PLAN}")
        _wipe(conn)
        lap("wipe_s")
        user_ids = _copy_users(conn, rng, users)
        _copy_plan(conn, user_ids, venue_ids, plan)
        lap("copy_users_plan_s")
        more = extra[1](user_ids, venue_ids, lat, lon) if extra is not None else None
        if more is not None:
            lap("generate_extra_s")
        rows = _copy_checkins(conn, rng, plan, user_ids, venue_ids, ewkb, history, lap, more)
        _derive(conn, lap)
        if contacts:
            _ring(conn, contacts)
            lap("contacts_s")
        timings["total_s"] = round(time.perf_counter() - started, 2)
        conn.execute(
            f"CREATE TABLE {MARK} (options json NOT NULL, timings json NOT NULL,"
            " seeded_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute(
            f"INSERT INTO {MARK} (options, timings) VALUES (%s, %s)",
            (json.dumps(options), json.dumps(timings)),
        )
    lap("commit_s")
    for table in (
        "users",
        "user_venues",
        "venue_visit_days",
        "user_cities",
        "user_badges",
        "venue_mayors",
        "mayorship_changes",
        "relationships",
        "follows",
        PLAN,
    ):
        conn.execute(f"VACUUM ANALYZE {table}")
    conn.execute("ANALYZE checkins")  # COPY FREEZE already set the visibility map
    conn.execute("CHECKPOINT")
    lap("vacuum_analyze_checkpoint_s")
    timings["total_s"] = round(time.perf_counter() - started, 2)
    conn.execute(f"UPDATE {MARK} SET timings = %s", (json.dumps(timings),))
    return {**options, "checkins": rows, "timings": timings}


def _bulk(conn: psycopg.Connection) -> None:
    """Settings for the bulk transaction. ``replica`` skips the foreign-key triggers:
    every id comes from rows seeded just before, so the checks could only pass."""
    conn.execute("SET LOCAL synchronous_commit = off")
    conn.execute("SET LOCAL work_mem = '512MB'")
    conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
    conn.execute("SET LOCAL session_replication_role = replica")


def _read_venues(conn: psycopg.Connection, count: int):
    """The first ``count`` bench venues: ids, lat, lon and location as hex EWKB (what
    ``geography``'s text form is, and what COPY takes back)."""
    rows = conn.execute(
        "SELECT id, ST_Y(location::geometry), ST_X(location::geometry), location::text"
        " FROM venues WHERE source = %s AND deleted_at IS NULL ORDER BY id LIMIT %s",
        (seeding.SOURCE, count),
    ).fetchall()
    if len(rows) < count:
        raise RuntimeError(f"only {len(rows)} bench venues, {count} wanted: seed venues first")
    ids = np.array([row[0] for row in rows], dtype=np.int64)
    lat = np.array([row[1] for row in rows])
    lon = np.array([row[2] for row in rows])
    return ids, lat, lon, [row[3] for row in rows]


def _fill_cities(conn: psycopg.Connection, ids, lat, lon) -> None:
    """``venues.city`` as the service sets it on a venue's first eligible check-in."""
    missing = {
        row[0] for row in conn.execute("SELECT id FROM venues WHERE city IS NULL").fetchall()
    }
    with conn.transaction():
        conn.execute("CREATE TEMP TABLE bench_city (id bigint, city text) ON COMMIT DROP")
        with conn.cursor().copy("COPY bench_city (id, city) FROM STDIN") as copy:
            for venue_id, y, x in zip(ids.tolist(), lat.tolist(), lon.tolist(), strict=True):
                if venue_id in missing:
                    copy.write_row((venue_id, city_of(LatLon(y, x))))
        conn.execute("UPDATE venues v SET city = c.city FROM bench_city c WHERE v.id = c.id")


def _plan(rng, lat, lon, users: int, history: int) -> dict:
    """Homes, favourites, nearby pools and check-in counts (indexes into the venues)."""
    scale = seeding.METRES_PER_DEGREE
    xy = np.column_stack((lon * np.cos(np.radians(lat.mean())) * scale, lat * scale))
    home = rng.integers(0, len(lat), users)
    pool = min(NEARBY, len(lat))
    _, near = cKDTree(xy).query(xy[home], k=pool)
    near = near.reshape(users, pool)
    first = min(FAVOURITES_FROM, pool)
    favourites = rng.permuted(near[:, :first], axis=1)[:, : min(MAX_FAVOURITES, first)]
    count = np.minimum(rng.integers(2, MAX_FAVOURITES + 1, users), favourites.shape[1])
    weight = rng.lognormal(0.0, 0.9, users)
    per_user = np.floor(weight / weight.sum() * history).astype(np.int64)
    short = history - int(per_user.sum())
    per_user[rng.choice(users, short, replace=False)] += 1
    return {"near": near, "favourites": favourites, "count": count, "per_user": per_user}


def _wipe(conn: psycopg.Connection) -> None:
    """Empty every table that refers to users (venues excepted: bench venues stay), then
    the users. TRUNCATE in this transaction also lets COPY FREEZE the check-ins."""
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint"
            " WHERE contype = 'f' AND confrelid = 'users'::regclass"
            " AND conrelid <> 'venues'::regclass ORDER BY 1"
        )
    ]
    conn.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
    conn.execute(  # only rows that change: rewriting them all would undo the CLUSTER
        "UPDATE venues SET created_by = NULL, owner_id = NULL WHERE source = 'bench'"
        " AND (created_by IS NOT NULL OR owner_id IS NOT NULL)"
    )
    conn.execute("DELETE FROM users")


def _copy_users(conn: psycopg.Connection, rng, users: int) -> np.ndarray:
    """COPY the users (no password: they never log in) and return their ids, in order."""
    shares = np.array([share for _, share in SHARING_MIX])
    sharing = rng.choice(len(SHARING_MIX), users, p=shares / shares.sum())
    with conn.cursor().copy(
        "COPY users (handle, email, display_name, password_hash, location_sharing) FROM STDIN"
    ) as copy:
        for index in range(users):
            handle = f"{HANDLE_PREFIX}{index:06d}"
            copy.write_row(
                (
                    handle,
                    f"{handle}@bench.invalid",
                    f"Checkin User {index}",
                    "!",
                    SHARING_MIX[sharing[index]][0],
                )
            )
    ids = conn.execute(
        "SELECT id FROM users WHERE handle LIKE %s ORDER BY handle", (f"{HANDLE_PREFIX}%",)
    ).fetchall()
    return np.array([row[0] for row in ids], dtype=np.int64)


def _copy_plan(conn: psycopg.Connection, user_ids, venue_ids, plan: dict) -> None:
    conn.execute(
        f"CREATE TABLE {PLAN} (user_id bigint PRIMARY KEY, favourites bigint[] NOT NULL,"
        " nearby bigint[] NOT NULL)"
    )
    favourites, count, near = plan["favourites"], plan["count"], plan["near"]
    with conn.cursor().copy(f"COPY {PLAN} (user_id, favourites, nearby) FROM STDIN") as copy:
        for index, user_id in enumerate(user_ids.tolist()):
            mine = venue_ids[favourites[index, : count[index]]].tolist()
            copy.write_row((user_id, mine, venue_ids[near[index]].tolist()))


def _ny_offsets(first: int, last: int) -> tuple[int, np.ndarray]:
    """UTC offsets (seconds) of the venues' zone for every hour from ``first`` to ``last``
    (epoch seconds); zone transitions happen on the hour, so this is exact."""
    zone = ZoneInfo(TIMEZONE)
    start = first - first % 3600
    hours = range(start, last + 3600, 3600)
    offsets = [datetime.fromtimestamp(h, zone).utcoffset().total_seconds() for h in hours]
    return start, np.array(offsets, dtype=np.int64)


def _imprecise_reasons(accuracy: np.ndarray) -> dict[float, str]:
    """The stored ``reasons`` of an imprecise check-in, as the service writes them."""
    found = {}
    for value in np.unique(accuracy).tolist():
        reason = rules.imprecise(value)
        found[value] = json.dumps([reason.as_dict()]).replace("\\", "\\\\")
    return found


def merge_extra(rows: dict, more: dict | None) -> tuple[dict, dict, dict]:
    """``rows`` (arrays ``user``, ``venue`` (indexes into the users and venues), ``at``
    (epoch seconds), ``eligible``, ``accuracy``, ``private``) with ``more``'s rows
    appended; ``more`` has the same arrays plus ``reasons`` and ``locations``: dicts from
    its row numbers to the stored ``reasons`` (JSON, COPY-escaped; every ineligible row
    has one) and locations (EWKT, when not the venue's). Returns the merged arrays and
    those two dicts keyed by merged row number."""
    if more is None:
        return rows, {}, {}
    base = len(rows["at"])
    merged = {key: np.concatenate((rows[key], more[key])) for key in rows}
    reasons = {base + row: text for row, text in more["reasons"].items()}
    locations = {base + row: text for row, text in more["locations"].items()}
    return merged, reasons, locations


def _copy_checkins(conn, rng, plan, user_ids, venue_ids, ewkb, history, lap, more=None) -> int:
    """Generate the history (and merge ``more``), drop the table's indexes, COPY it in
    time order, rebuild."""
    per_user = plan["per_user"]
    user = np.repeat(np.arange(len(user_ids)), per_user)
    favourite = rng.random(history) < FAVOURITE_SHARE
    pick = (rng.random(history) ** 2 * plan["count"][user]).astype(np.int64)
    venue = np.where(
        favourite,
        plan["favourites"][user, pick],
        plan["near"][user, rng.integers(0, plan["near"].shape[1], history)],
    )
    now = int(time.time())
    midnight = now - now % 86400 - DAYS * 86400 + 5 * 3600  # about NYC's local midnight
    hour = rng.choice(24, history, p=HOURS / HOURS.sum())
    at = midnight + rng.integers(0, DAYS, history) * 86400 + hour * 3600
    at += rng.integers(0, 3600, history)
    at = np.minimum(at, now - 20 * 3600)
    eligible = rng.random(history) >= INELIGIBLE_SHARE
    accuracy = np.where(
        eligible,
        rng.integers(5, 66, history).astype(float),
        rng.integers(12, 31, history) * 50.0,
    )
    private = rng.random(history) < PRIVATE_SHARE
    reasons = _imprecise_reasons(accuracy[~eligible])
    rows = {
        "user": user,
        "venue": venue,
        "at": at,
        "eligible": eligible,
        "accuracy": accuracy,
        "private": private,
    }
    rows, row_reasons, row_locations = merge_extra(rows, more)
    user, venue, at = rows["user"], rows["venue"], rows["at"]
    eligible, accuracy, private = rows["eligible"], rows["accuracy"], rows["private"]
    total = len(at)
    points = np.where(eligible, POINTS_CHECKIN, 0)
    chosen = np.flatnonzero(eligible)
    order = chosen[np.lexsort((at[chosen], venue[chosen], user[chosen]))]
    pair = user[order] * len(venue_ids) + venue[order]
    first = order[np.concatenate(([True], pair[1:] != pair[:-1]))]
    points[first] += POINTS_FIRST_VISIT
    arrival = np.argsort(at, kind="stable")
    start, offsets = _ny_offsets(int(at.min()), int(at.max()))
    local = at + offsets[(at - start) // 3600]
    lap("generate_s")

    indexes, primary, referring = _checkin_ddl(conn)
    for name, _ in referring:
        table, constraint = name
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")
    conn.execute(f"ALTER TABLE checkins DROP CONSTRAINT {primary[0]}")
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    lap("drop_indexes_s")

    user_text = user_ids.astype(str)
    venue_text = venue_ids.astype(str)
    with conn.cursor().copy(f"COPY checkins ({CHECKIN_COLUMNS}) FROM STDIN WITH (FREEZE)") as cp:
        for low in range(0, total, CHUNK):
            rows = arrival[low : low + CHUNK]
            when = np.datetime_as_string(at[rows].astype("datetime64[s]"), unit="s")
            day = np.datetime_as_string((local[rows] // 86400).astype("datetime64[D]"))
            lines = []
            for r, u, v, acc, priv, ts, d, ok, pts in zip(
                rows.tolist(),
                user_text[user[rows]].tolist(),
                venue[rows].tolist(),
                accuracy[rows].tolist(),
                private[rows].tolist(),
                when.tolist(),
                day.tolist(),
                eligible[rows].tolist(),
                points[rows].tolist(),
                strict=True,
            ):
                where = row_locations.get(r) or ewkb[v]
                why = "[]" if ok else row_reasons.get(r) or reasons[acc]
                lines.append(
                    f"{u}\t{venue_text[v]}\t{where}\t{acc}\t{'t' if priv else 'f'}\t"
                    f"{'f' if priv else 't'}\t"
                    f"{ts}+00\t{d}\t{'t' if ok else 'f'}\t{why}\t{pts}\t{ts}+00\n"
                )
            cp.write("".join(lines))
    lap("copy_checkins_s")
    conn.execute(f"ALTER TABLE checkins ADD CONSTRAINT {primary[0]} {primary[1]}")
    for _, definition in indexes:
        conn.execute(definition)
    for (table, constraint), definition in referring:
        conn.execute(f"ALTER TABLE {table} ADD CONSTRAINT {constraint} {definition}")
    lap("rebuild_indexes_s")
    return total


def _checkin_ddl(conn: psycopg.Connection):
    """The indexes of ``checkins`` (not the primary key's), its primary key and the
    foreign keys that refer to it, as the migrations made them."""
    indexes = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid = 'checkins'::regclass AND NOT i.indisprimary ORDER BY 1"
    ).fetchall()
    primary = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = 'checkins'::regclass AND contype = 'p'"
    ).fetchone()
    referring = [
        ((row[0], row[1]), row[2])
        for row in conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
            " FROM pg_constraint WHERE contype = 'f' AND confrelid = 'checkins'::regclass"
            " ORDER BY 1, 2"
        )
    ]
    return indexes, primary, referring


def _derive(conn: psycopg.Connection, lap) -> None:
    """The rewards state the history implies (what ``award`` and ``mayorship`` keep)."""
    conn.execute(
        "INSERT INTO user_venues (user_id, venue_id, first_checkin_id, first_at)"
        " SELECT DISTINCT ON (user_id, venue_id) user_id, venue_id, id, created_at"
        " FROM checkins WHERE eligible ORDER BY user_id, venue_id, effective_at, id"
    )
    lap("user_venues_s")
    conn.execute(
        "INSERT INTO venue_visit_days (venue_id, user_id, local_day)"
        " SELECT DISTINCT venue_id, user_id, local_day FROM checkins WHERE eligible"
        " ORDER BY 1, 2, 3"
    )
    lap("venue_visit_days_s")
    conn.execute(
        "INSERT INTO user_cities (user_id, city, first_checkin_id, first_at)"
        " SELECT DISTINCT ON (k.user_id, v.city) k.user_id, v.city, k.id, k.created_at"
        " FROM checkins k JOIN venues v ON v.id = k.venue_id"
        " WHERE k.eligible ORDER BY k.user_id, v.city, k.effective_at, k.id"
    )
    lap("user_cities_s")
    # Mayors: most distinct days in the last 60 (at least 2); ties to the lowest id.
    conn.execute(
        "INSERT INTO venue_mayors (venue_id, user_id, days, since, expires_at)"
        " SELECT DISTINCT ON (venue_id) venue_id, user_id, count(*), now() - interval '1 day',"
        # the day the mayor's oldest counted day leaves the window, at venue-local midnight
        f" ((min(local_day) + 60)::timestamp AT TIME ZONE '{TIMEZONE}')"
        " FROM venue_visit_days"
        f" WHERE local_day > (now() AT TIME ZONE '{TIMEZONE}')::date - 60"
        " GROUP BY venue_id, user_id HAVING count(*) >= 2"
        " ORDER BY venue_id, count(*) DESC, user_id"
    )
    conn.execute(
        "INSERT INTO mayorship_changes (venue_id, previous_user_id, user_id, days, at)"
        " SELECT venue_id, NULL, user_id, days, since FROM venue_mayors ORDER BY venue_id"
    )
    lap("mayors_s")
    _badges(conn)
    lap("badges_s")
    conn.execute(
        "UPDATE users u SET checkin_count = s.n, eligible_checkins = s.ok,"
        " points = s.points + %s * coalesce(m.n, 0)"
        " FROM (SELECT user_id, count(*) AS n, count(*) FILTER (WHERE eligible) AS ok,"
        "  sum(points) AS points FROM checkins GROUP BY user_id) s"
        " LEFT JOIN (SELECT user_id, count(*) AS n FROM venue_mayors GROUP BY user_id) m"
        "  ON m.user_id = s.user_id"
        " WHERE u.id = s.user_id",
        (POINTS_MAYORSHIP,),
    )
    # the badge counters (migration 0015) follow user_venues and user_cities
    conn.execute(
        "UPDATE users u SET venues_visited = v.n,"
        " cities_visited = (SELECT count(*) FROM user_cities c WHERE c.user_id = u.id)"
        " FROM (SELECT user_id, count(*) AS n FROM user_venues GROUP BY user_id) v"
        " WHERE u.id = v.user_id"
    )
    lap("user_totals_s")


# Badges the history already earned, from its aggregates. Awarded "a day ago", no check-in.
BADGES_SQL = f"""
WITH stats AS (
    SELECT user_id, count(*) AS n,
           bool_or(extract(hour FROM effective_at AT TIME ZONE '{TIMEZONE}') < 5) AS night,
           bool_or(extract(hour FROM effective_at AT TIME ZONE '{TIMEZONE}') IN (5, 6))
               AS early
    FROM checkins WHERE eligible GROUP BY user_id
), venues_seen AS (
    SELECT user_id, count(*) AS n FROM user_venues GROUP BY user_id
), local AS (
    SELECT DISTINCT user_id FROM (
        SELECT user_id, effective_at - lag(effective_at, 2) OVER (
            PARTITION BY user_id, venue_id ORDER BY effective_at) AS span
        FROM checkins WHERE eligible
    ) s WHERE span < interval '7 days'
), streaks AS (
    SELECT DISTINCT user_id FROM (
        SELECT user_id, local_day - (row_number() OVER (
            PARTITION BY user_id ORDER BY local_day))::int AS island
        FROM (SELECT DISTINCT user_id, local_day FROM venue_visit_days) d
    ) s GROUP BY user_id, island HAVING count(*) >= 7
), earned (user_id, badge, level) AS (
    SELECT user_id, 'newbie', 1 FROM stats
    UNION ALL SELECT user_id, 'regular', level
        FROM stats CROSS JOIN (VALUES (1, 10), (2, 50), (3, 250)) t (level, threshold)
        WHERE n >= threshold
    UNION ALL SELECT user_id, 'night_owl', 1 FROM stats WHERE night
    UNION ALL SELECT user_id, 'early_bird', 1 FROM stats WHERE early
    UNION ALL SELECT user_id, 'explorer', 1 FROM venues_seen WHERE n >= 10
    UNION ALL SELECT user_id, 'superstar', 1 FROM venues_seen WHERE n >= 50
    UNION ALL SELECT user_id, 'local', 1 FROM local
    UNION ALL SELECT user_id, 'streak_7', 1 FROM streaks
    UNION ALL SELECT DISTINCT user_id, 'mayor', 1 FROM venue_mayors
)
INSERT INTO user_badges (user_id, badge, level, awarded_at)
SELECT user_id, badge, level, now() - interval '1 day' FROM earned ORDER BY 1, 2, 3
"""


def _badges(conn: psycopg.Connection) -> None:
    conn.execute(BADGES_SQL)


def _ring(conn: psycopg.Connection, contacts: int) -> None:
    """Every user the mutual contact of the ``contacts / 2`` users on either side of a
    fixed-seed ring (both directions, ``mutual``, plus the ``app`` follows)."""
    conn.execute(
        "CREATE TEMP TABLE bench_ring ON COMMIT DROP AS SELECT id AS user_id,"
        " (row_number() OVER (ORDER BY md5(id::text)) - 1)::int AS pos FROM users"
    )
    conn.execute("CREATE UNIQUE INDEX ON bench_ring (pos)")
    users = conn.execute("SELECT count(*) FROM bench_ring").fetchone()[0]
    conn.execute(
        "INSERT INTO relationships (user_id, other_id, i_follow, they_follow)"
        " SELECT a.user_id, b.user_id, true, true FROM bench_ring a"
        " CROSS JOIN generate_series(-%(half)s::int, %(half)s::int) AS k"
        " JOIN bench_ring b ON b.pos = ((a.pos + k) %% %(n)s::int + %(n)s::int) %% %(n)s::int"
        " WHERE k <> 0 ORDER BY 1, 2",
        {"half": contacts // 2, "n": users},
    )
    conn.execute(
        "INSERT INTO follows (follower_id, followee_id, via)"
        " SELECT user_id, other_id, 'app' FROM relationships ORDER BY 1, 2"
    )


def plan_rows(conn: psycopg.Connection) -> list[tuple]:
    """``(user_id, favourites, nearby)`` of every seeded user, favourites as
    ``[(venue_id, lat, lon), ...]`` and the same for nearby."""
    coords = {
        row[0]: (row[0], row[1], row[2])
        for row in conn.execute(
            "SELECT id, ST_Y(location::geometry), ST_X(location::geometry) FROM venues"
            f" WHERE id IN (SELECT unnest(nearby) FROM {PLAN})"
        )
    }
    return [
        (user_id, [coords[v] for v in favourites], [coords[v] for v in nearby])
        for user_id, favourites, nearby in conn.execute(
            f"SELECT user_id, favourites, nearby FROM {PLAN} ORDER BY user_id"
        )
    ]


def seeded_at() -> str:
    """Now, for the report."""
    return datetime.now(UTC).isoformat(timespec="seconds")
