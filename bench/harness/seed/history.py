"""A year of check-in history, its users and their plans, COPYed in time order (README)."""

import json
import time
from collections.abc import Callable

import numpy as np
import psycopg
from scipy.spatial import cKDTree

from bench.harness.database import Laps, bulk
from bench.harness.seed import rewards_state
from bench.harness.seed.busy import Calendar
from bench.harness.seed.venues import METRES_PER_DEGREE, SOURCE, TIMEZONE
from geo import rules
from geo.cities import city_of
from geo.coords import LatLon

HANDLE_PREFIX = "ck_u"
PLAN = "bench_checkins_plan"
FAVOURITES_FROM, MAX_FAVOURITES, NEARBY = 15, 8, 40  # venues nearest home
FAVOURITE_SHARE, INELIGIBLE_SHARE, PRIVATE_SHARE = 0.8, 0.04, 0.05
SHARING_MIX = (("exact", 0.75), ("approximate", 0.20), ("off", 0.05))
POINTS_CHECKIN, POINTS_FIRST_VISIT = 5, 10
CHUNK = 250_000
HOURS = np.array(  # share of check-ins in each local hour: lunch and evening peaks
    [2, 1, 1, 0.5, 0.5, 1, 2, 4, 6, 6, 6, 7, 9, 8, 6, 5, 5, 6, 8, 9, 8, 6, 4, 3], dtype=float
)
COLUMNS = "user_id, venue_id, location, accuracy_m, private, shared, effective_at, local_day,"
COLUMNS += " eligible, reasons, points, created_at"
ARRAYS = ("user", "venue", "at", "eligible", "accuracy", "private")


def seed_history(
    conn: psycopg.Connection, *, venues: int, users: int, history: int, contacts: int,
    seed: int, extra: Callable[..., dict],
) -> dict:  # fmt: skip
    """Seed users and their history merged with ``extra``'s rows; the timings."""
    if contacts % 2 or contacts >= users:
        raise ValueError("contacts must be even and smaller than users")
    laps, rng = Laps(), np.random.default_rng(seed)
    rows = conn.execute(
        "SELECT id, ST_Y(location::geometry), ST_X(location::geometry), location::text"
        " FROM venues WHERE source = %s AND deleted_at IS NULL ORDER BY id LIMIT %s",
        (SOURCE, venues),
    ).fetchall()
    if len(rows) < venues:
        raise RuntimeError(f"only {len(rows)} bench venues, {venues} wanted: seed venues first")
    venue_ids, lat, lon = (np.array([row[i] for row in rows]) for i in range(3))
    ewkb = [row[3] for row in rows]  # what geography's text form is, and COPY takes back
    _fill_cities(conn, venue_ids, lat, lon)
    laps("read_venues_cities_s")
    plan = _plan(rng, lat, lon, users, history)
    with conn.transaction():
        bulk(conn, work_mem="512MB")
        _wipe(conn)
        user_ids = _copy_users(conn, rng, users)
        _copy_plan(conn, user_ids, venue_ids, plan)
        laps("wipe_copy_users_plan_s")
        rows = _merge(_generate(rng, plan, history), extra(user_ids, venue_ids, lat, lon))
        laps("generate_s")
        _copy_checkins(conn, rows, user_ids, venue_ids, ewkb, laps)
        rewards_state.derive(conn, laps)
        if contacts:
            rewards_state.ring(conn, contacts)
            laps("contacts_s")
    laps("commit_s")
    for table in ("users", "user_venues", "venue_visit_days", "user_cities", "user_badges"):
        conn.execute(f"VACUUM ANALYZE {table}")
    for table in ("venue_mayors", "mayorship_changes", "relationships", "follows", PLAN):
        conn.execute(f"VACUUM ANALYZE {table}")
    conn.execute("ANALYZE checkins")  # COPY FREEZE already set the visibility map
    conn.execute("CHECKPOINT")
    laps("vacuum_analyze_checkpoint_s")
    return laps.total()


def _fill_cities(conn: psycopg.Connection, ids, lat, lon) -> None:
    """Set ``venues.city`` as the service does on a venue's first eligible check-in."""
    missing = {row[0] for row in conn.execute("SELECT id FROM venues WHERE city IS NULL")}
    found = [
        (venue_id, city_of(LatLon(y, x)))
        for venue_id, y, x in zip(ids.tolist(), lat.tolist(), lon.tolist(), strict=True)
        if venue_id in missing
    ]
    # arrays, not a temporary table: Citus joins a reference table with no local table
    conn.execute(
        "UPDATE venues v SET city = c.city FROM unnest(%s::bigint[], %s::text[]) AS c (id, city)"
        " WHERE v.id = c.id",
        ([row[0] for row in found], [row[1] for row in found]),
    )


def _plan(rng, lat, lon, users: int, history: int) -> dict:
    """Draw homes, favourites, nearby pools and check-in counts (venue indexes)."""
    xy = np.column_stack((lon * np.cos(np.radians(lat.mean())), lat)) * METRES_PER_DEGREE
    home = rng.integers(0, len(lat), users)
    pool = min(NEARBY, len(lat))
    near = cKDTree(xy).query(xy[home], k=pool)[1].reshape(users, pool)
    first = min(FAVOURITES_FROM, pool)
    favourites = rng.permuted(near[:, :first], axis=1)[:, : min(MAX_FAVOURITES, first)]
    count = np.minimum(rng.integers(2, MAX_FAVOURITES + 1, users), favourites.shape[1])
    weight = rng.lognormal(0.0, 0.9, users)
    per_user = np.floor(weight / weight.sum() * history).astype(np.int64)
    per_user[rng.choice(users, history - int(per_user.sum()), replace=False)] += 1
    return {"near": near, "favourites": favourites, "count": count, "per_user": per_user}


def _wipe(conn: psycopg.Connection) -> None:
    """Empty every table that refers to users (but venues), then the users."""
    tables = conn.execute(
        "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f'"
        " AND confrelid = 'users'::regclass AND conrelid <> 'venues'::regclass ORDER BY 1"
    ).fetchall()
    conn.execute(f"DROP TABLE IF EXISTS {PLAN}")
    conn.execute(f"TRUNCATE {', '.join(row[0] for row in tables)} CASCADE")
    conn.execute(  # only rows that change: rewriting them all would undo the CLUSTER
        "UPDATE venues SET created_by = NULL, owner_id = NULL WHERE source = 'bench'"
        " AND (created_by IS NOT NULL OR owner_id IS NOT NULL)"
    )
    conn.execute("DELETE FROM users")


def _copy_users(conn: psycopg.Connection, rng, users: int) -> np.ndarray:
    """COPY the users (no password: they never log in); their ids, in handle order."""
    shares = np.array([share for _, share in SHARING_MIX])
    sharing = rng.choice(len(SHARING_MIX), users, p=shares / shares.sum())
    columns = "handle, email, display_name, password_hash, location_sharing"
    with conn.cursor().copy(f"COPY users ({columns}) FROM STDIN") as copy:
        for n in range(users):
            handle, share = f"{HANDLE_PREFIX}{n:06d}", SHARING_MIX[sharing[n]][0]
            copy.write_row((handle, f"{handle}@bench.invalid", f"Checkin User {n}", "!", share))
    ids = conn.execute(
        "SELECT id FROM users WHERE handle LIKE %s ORDER BY handle", (f"{HANDLE_PREFIX}%",)
    ).fetchall()
    return np.array([row[0] for row in ids], dtype=np.int64)


def _copy_plan(conn: psycopg.Connection, user_ids, venue_ids, plan: dict) -> None:
    """Keep each user's favourite and nearby venues (``PLAN``)."""
    conn.execute(
        f"CREATE TABLE {PLAN} (user_id bigint PRIMARY KEY, favourites bigint[] NOT NULL,"
        " nearby bigint[] NOT NULL)"
    )
    favourites, count, near = plan["favourites"], plan["count"], plan["near"]
    with conn.cursor().copy(f"COPY {PLAN} (user_id, favourites, nearby) FROM STDIN") as copy:
        for n, user_id in enumerate(user_ids.tolist()):
            mine = venue_ids[favourites[n, : count[n]]].tolist()
            copy.write_row((user_id, mine, venue_ids[near[n]].tolist()))


def _generate(rng, plan: dict, history: int) -> dict:
    """Draw the history's ``ARRAYS`` and the ``reasons`` stored for ineligible rows."""
    user = np.repeat(np.arange(len(plan["per_user"])), plan["per_user"])
    favourite = rng.random(history) < FAVOURITE_SHARE
    pick = (rng.random(history) ** 2 * plan["count"][user]).astype(np.int64)
    venue = np.where(
        favourite,
        plan["favourites"][user, pick],
        plan["near"][user, rng.integers(0, plan["near"].shape[1], history)],
    )
    now = int(time.time())
    midnight = now - now % 86400 - 365 * 86400 + 5 * 3600  # about NYC's local midnight
    hour = rng.choice(24, history, p=HOURS / HOURS.sum())
    at = midnight + rng.integers(0, 365, history) * 86400 + hour * 3600
    at = np.minimum(at + rng.integers(0, 3600, history), now - 20 * 3600)
    eligible = rng.random(history) >= INELIGIBLE_SHARE
    accuracy = np.where(
        eligible, rng.integers(5, 66, history).astype(float), rng.integers(12, 31, history) * 50.0
    )
    texts = {  # the stored ``reasons`` of an imprecise check-in, as the service writes them
        value: json.dumps([rules.imprecise(value).as_dict()]).replace("\\", "\\\\")
        for value in np.unique(accuracy[~eligible]).tolist()
    }
    reasons = {row: texts[accuracy[row]] for row in np.flatnonzero(~eligible).tolist()}
    private = rng.random(history) < PRIVATE_SHARE
    found = dict(zip(ARRAYS, (user, venue, at, eligible, accuracy, private), strict=True))
    return {**found, "reasons": reasons, "locations": {}}


def _merge(rows: dict, more: dict) -> dict:
    """Append ``more``'s rows to ``rows`` (its ``reasons`` and ``locations`` renumbered)."""
    merged = {key: np.concatenate((rows[key], more[key])) for key in ARRAYS}
    for key in ("reasons", "locations"):
        merged[key] = rows[key] | {len(rows["at"]) + n: text for n, text in more[key].items()}
    return merged


def _copy_checkins(conn, rows: dict, user_ids, venue_ids, ewkb, laps) -> None:
    """Work out points, drop the table's indexes, COPY the rows in time order, rebuild."""
    user, venue, at, eligible = (rows[key] for key in ARRAYS[:4])
    points = np.where(eligible, POINTS_CHECKIN, 0)
    chosen = np.flatnonzero(eligible)
    order = chosen[np.lexsort((at[chosen], venue[chosen], user[chosen]))]
    pair = user[order] * len(venue_ids) + venue[order]
    points[order[np.concatenate(([True], pair[1:] != pair[:-1]))]] += POINTS_FIRST_VISIT
    arrival = np.argsort(at, kind="stable")
    local_day = ((at + Calendar(int(time.time()), TIMEZONE).offset_at(at)) // 86400).astype(
        "datetime64[D]"
    )
    ddl = checkin_ddl(conn)
    for drop, _ in ddl:
        conn.execute(drop)
    user_text, venue_text = user_ids.astype(str), venue_ids.astype(str)
    reasons, locations = rows["reasons"], rows["locations"]
    with conn.cursor().copy(f"COPY checkins ({COLUMNS}) FROM STDIN WITH (FREEZE)") as cp:
        for low in range(0, len(at), CHUNK):
            part = arrival[low : low + CHUNK]
            when = np.datetime_as_string(at[part].astype("datetime64[s]"), unit="s").tolist()
            day = np.datetime_as_string(local_day[part]).tolist()
            columns = [part, user_text[user[part]], venue[part], rows["accuracy"][part]]
            columns += [rows["private"][part], eligible[part], points[part]]
            lines = []
            for (r, u, v, acc, hidden, ok, pts), ts, d in zip(
                zip(*(column.tolist() for column in columns), strict=True), when, day, strict=True
            ):
                lines.append(
                    f"{u}\t{venue_text[v]}\t{locations.get(r) or ewkb[v]}\t{acc}\t"
                    f"{'t' if hidden else 'f'}\t{'f' if hidden else 't'}\t{ts}+00\t{d}\t"
                    f"{'t' if ok else 'f'}\t{'[]' if ok else reasons[r]}\t{pts}\t{ts}+00\n"
                )
            cp.write("".join(lines))
    laps("copy_checkins_s")
    for _, create in reversed(ddl):
        conn.execute(create)
    laps("rebuild_indexes_s")


def checkin_ddl(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """List ``(drop, create)`` of the keys referring to ``checkins``, its primary key and its
    indexes, as the migrations made them, in the order to drop them."""
    rows = conn.execute(
        "SELECT (contype = 'p')::int, format('ALTER TABLE %s DROP CONSTRAINT %I',"
        " conrelid::regclass, conname), format('ALTER TABLE %s ADD CONSTRAINT %I ',"
        " conrelid::regclass, conname) || pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'f' AND confrelid = 'checkins'::regclass"
        " OR contype = 'p' AND conrelid = 'checkins'::regclass"
        " UNION ALL SELECT 2, format('DROP INDEX %s', indexrelid::regclass),"
        " pg_get_indexdef(indexrelid) FROM pg_index"
        " WHERE indrelid = 'checkins'::regclass AND NOT indisprimary ORDER BY 1, 2"
    ).fetchall()
    return [(drop, create) for _, drop, create in rows]
