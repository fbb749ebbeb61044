"""Benchmark `GET /api/v1/events/nearby` against `GET /api/v1/venues/nearby`, same run.

The "Events" issue asks for nearby events at a year of one city's events to answer within
twice the time of nearby venues. On the 1 M bench venues of ``nearby_venues.py`` it seeds
``--events`` (default 200,000) events over the year centred on now, at random bench
venues (so clustered like them), organised by a few ``bench_evt_*`` users, each 1-8 hours
long (some conferences of 1-3 days). Then, from separate load-generator processes, on one
fixed-seed list of query points near the venue clusters, it measures:

- ``venues``: ``GET /api/v1/venues/nearby?lat&lon&radius_m&limit`` (the baseline);
- ``events``: ``GET /api/v1/events/nearby?lat&lon&radius_m&limit&from&to``, a 7-day window
  starting at a random time within the seeded year (one window per query point);
- ``events_default``: the same without ``from``/``to`` (the endpoint's now -> +7 days);
- ``venues_sql`` / ``events_sql``: each service's SQL straight through psycopg (prepared,
  ``jit=off`` as the service connects), to split database time from API time.

Each at concurrency 1 (median, p95, p99) and at ``--concurrency`` (throughput), after a
warm-up, phases interleaved. It also runs ``EXPLAIN ANALYZE`` of the events SQL on a few
samples (custom plans, and the generic plan a prepared statement may switch to) and
reports whether the GiST index ``ix_events_location_period`` serves it, and how.

The database is ``BENCH_DATABASE_URL`` (default ``.../irl_bench``, shared with
``nearby_venues.py``): created, migrated with Alembic, venues and events seeded with COPY
when absent (idempotent; events are re-seeded when their year is no longer centred on
now). Results go to stdout and ``bench/results/nearby_events.json``.

Rerun: ``.venv/bin/python bench/nearby_events.py`` (``--help`` for options), or
``make bench`` (options through ``BENCH_EVENTS_ARGS``).
"""

import argparse
import base64
import http.client
import json
import multiprocessing
import os
import platform
import random
import re
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import apiserver
import psycopg
import seeding
from loadgen import BARRIER_TIMEOUT_S, ERRORS, QueryError, print_table, ratio, summarise
from queries import GEOGRAPHY_SQL

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/irl_bench"
RESULTS = Path(__file__).resolve().parent / "results"
HANDLE_PREFIX = "bench_evt_"
HANDLE_LIKE = r"bench\_evt\_%"
YEAR_DAYS = 365
WINDOW = timedelta(days=7)  # the endpoint's default window, and the measured one
RECENTRE_AFTER = timedelta(days=30)  # re-seed when the seeded year drifted this far
CONFERENCE_SHARE = 0.03
SERVICE_OPTIONS = "-c jit=off -c timezone=UTC"  # as service/database.py connects
SANITY_POINTS = 50
EXPLAIN_SHOWN = 5  # plans printed one by one (all are in the JSON)
INDEX = "ix_events_location_period"
TARGETS = ("venues", "events", "events_default", "venues_sql", "events_sql")
LABELS = {
    "venues": "venues/nearby (HTTP)",
    "events": "events/nearby, 7-day window (HTTP)",
    "events_default": "events/nearby, default window (HTTP)",
    "venues_sql": "venues SQL (raw, prepared)",
    "events_sql": "events SQL (raw, prepared)",
}

# What service/events/service.py:nearby emits (SQLAlchemy 2), written out by hand with
# named parameters: the three entities' columns, a contacts-going subquery per row,
# ST_DWithin + period overlap, nearest first (then id), LIMIT/OFFSET.
_POINT = (
    "CAST(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), %(srid)s::INTEGER) AS geography(POINT,4326))"
)
EVENTS_SQL = f"""
SELECT events.id, events.venue_id, events.organiser_id, events.title, events.description,
       events.tags, events.starts_at, events.ends_at, events.period,
       ST_AsBinary(events.location) AS location, events.created_at,
       venues.id AS id_1, venues.name, venues.category, venues.address,
       ST_AsBinary(venues.location) AS location_1, venues.radius_m, venues.timezone,
       venues.city, venues.created_by, venues.owner_id, venues.source, venues.source_ref,
       venues.created_at AS created_at_1, venues.deleted_at,
       users.id AS id_2, users.handle, users.email, users.display_name, users.password_hash,
       users.is_admin, users.location_sharing, users.nearby_radius_m, users.notify_nearby,
       users.points, users.checkin_count, users.created_at AS created_at_2,
       ST_Y(CAST(events.location AS geometry(POINT,4326))) AS lat,
       ST_X(CAST(events.location AS geometry(POINT,4326))) AS lon,
       ST_Distance(events.location, {_POINT}) AS distance_m,
       (SELECT count(*) AS count_1 FROM event_rsvps
        WHERE event_rsvps.event_id = events.id AND event_rsvps.status = %(status)s::VARCHAR
          AND event_rsvps.user_id IN (SELECT relationships.other_id FROM relationships
                                      WHERE relationships.user_id = %(viewer)s::BIGINT
                                        AND relationships.mutual)) AS contacts_going
FROM events JOIN venues ON venues.id = events.venue_id JOIN users ON users.id = events.organiser_id
WHERE ST_DWithin(events.location, {_POINT}, %(r)s)
  AND (events.period && tstzrange(%(start)s::TIMESTAMP WITH TIME ZONE,
                                  %(end)s::TIMESTAMP WITH TIME ZONE, %(bounds)s::VARCHAR))
ORDER BY events.location <-> {_POINT}, events.id
LIMIT %(limit)s::INTEGER OFFSET %(offset)s::INTEGER
"""
SQL = {"venues_sql": GEOGRAPHY_SQL, "events_sql": EVENTS_SQL}


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--venues", type=int, default=1_000_000, help="bench venues (default 1,000,000)")
    add("--events", type=int, default=200_000, help="events to seed (default 200,000)")
    add("--reseed", action="store_true", help="re-seed the events even if present")
    add("--organisers", type=int, default=8, help="bench users organising them")
    add("--seconds", type=float, default=10, help="measured seconds per phase")
    add("--warmup", type=float, default=2, help="warm-up seconds per phase")
    add("--concurrency", type=int, default=4, help="clients in the throughput phase")
    add("--points", type=int, default=2000, help="distinct query points (and windows)")
    add("--radius", type=float, default=1000, help="radius_m of each query")
    add("--limit", type=int, default=20, help="limit of each query")
    add("--explain", type=int, default=30, help="EXPLAIN ANALYZE samples of the events SQL")
    add("--workers", type=int, default=2, help="gunicorn workers")
    add("--threads", type=int, default=4, help="gunicorn threads per worker")
    add("--output", type=Path, default=RESULTS / "nearby_events.json")
    return parser.parse_args()


# --- seeding ---------------------------------------------------------------------------


def ensure_organisers(conn: psycopg.Connection, count: int) -> list[int]:
    """Ids of ``count`` organiser users ``bench_evt_0..`` (created if missing; no login)."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO users (handle, email, display_name, password_hash)"
            " VALUES (%s, %s, %s, '!') ON CONFLICT DO NOTHING",
            [
                (f"{HANDLE_PREFIX}{n}", f"{HANDLE_PREFIX}{n}@example.com", f"Bench organiser {n}")
                for n in range(count)
            ],
        )
    handles = [f"{HANDLE_PREFIX}{n}" for n in range(count)]
    rows = conn.execute(
        "SELECT id FROM users WHERE lower(handle) = ANY(%s) ORDER BY id", (handles,)
    ).fetchall()
    return [row[0] for row in rows]


def bench_events(conn: psycopg.Connection) -> tuple[int, datetime | None, datetime | None]:
    """How many events the bench organisers have, and their first and last start."""
    return conn.execute(
        "SELECT count(*), min(starts_at), max(starts_at) FROM events"
        " WHERE organiser_id IN (SELECT id FROM users WHERE handle LIKE %s)",
        (HANDLE_LIKE,),
    ).fetchone()


def drop_events(conn: psycopg.Connection) -> None:
    """Delete the bench events and what refers to them (RSVPs; event ids on check-ins and
    meetings are set to NULL), one statement per foreign key, FK triggers off."""
    with conn.transaction():
        _bulk_session(conn)
        conn.execute(
            "CREATE TEMP TABLE bench_evt_doomed ON COMMIT DROP AS SELECT id FROM events"
            " WHERE organiser_id IN (SELECT id FROM users WHERE handle LIKE %s)",
            (HANDLE_LIKE,),
        )
        seeding.clear_references(conn, "events", "SELECT id FROM bench_evt_doomed")
        conn.execute("DELETE FROM events WHERE id IN (SELECT id FROM bench_evt_doomed)")


def _bulk_session(conn: psycopg.Connection) -> None:
    conn.execute("SET LOCAL synchronous_commit = off")
    conn.execute("SET LOCAL work_mem = '256MB'")
    # Every id comes from rows read just before: the FK checks could only pass.
    conn.execute("SET LOCAL session_replication_role = replica")


def year_of(now: datetime) -> tuple[datetime, datetime]:
    """The seeded year: 365 New York days centred on ``now`` (local midnights)."""
    tz = ZoneInfo(seeding.TIMEZONE)
    first = (now.astimezone(tz) - timedelta(days=YEAR_DAYS / 2)).date()
    start = datetime.combine(first, clock_time(0), tzinfo=tz)
    end = datetime.combine(first + timedelta(days=YEAR_DAYS), clock_time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def event_rows(
    venue_ids: list[int], organiser_ids: list[int], count: int, year_start: datetime, seed: int
) -> list[tuple]:
    """``count`` deterministic ``(n, venue_id, organiser_id, starts_at, ends_at)`` rows,
    numbered in start order: starts on a uniform local day, mostly in the evening
    (07:00-23:00 New York, peak 19:00, quarter hours), 1-8 h long, or a 1-3 day
    conference (``CONFERENCE_SHARE``)."""
    rng = random.Random(seed)
    tz = ZoneInfo(seeding.TIMEZONE)
    first_day = year_start.astimezone(tz).date()
    events = []
    for _ in range(count):
        day = first_day + timedelta(days=rng.randrange(YEAR_DAYS))
        minute = round(rng.triangular(7 * 60, 23 * 60, 19 * 60) / 15) * 15
        starts = datetime.combine(day, clock_time(0), tzinfo=tz) + timedelta(minutes=minute)
        if rng.random() < CONFERENCE_SHARE:
            length = timedelta(days=rng.randint(1, 3))
        else:
            length = timedelta(minutes=15 * rng.randint(4, 32))
        venue = venue_ids[rng.randrange(len(venue_ids))]
        events.append((starts.astimezone(UTC), length, venue, rng.choice(organiser_ids)))
    events.sort(key=lambda row: row[0])
    return [
        (n, venue, organiser, starts, starts + length)
        for n, (starts, length, venue, organiser) in enumerate(events, 1)
    ]


def seed_events(
    conn: psycopg.Connection,
    count: int,
    organisers: int,
    now: datetime,
    seed: int = 11,
    force: bool = False,
) -> dict | None:
    """COPY ``count`` bench events in (the year centred on ``now``), then VACUUM FULL ANALYZE;
    None when the same number is there and its year is still centred on ``now``
    (unless ``force``)."""
    organiser_ids = ensure_organisers(conn, organisers)
    have, first, last = bench_events(conn)
    centred = first is not None and abs(first + (last - first) / 2 - now) < RECENTRE_AFTER
    if have == count and centred and not force:
        return None
    started = time.perf_counter()
    drop_events(conn)
    dropped = time.perf_counter()
    venue_ids = [
        row[0]
        for row in conn.execute(
            "SELECT id FROM venues WHERE source = %s AND deleted_at IS NULL ORDER BY id",
            (seeding.SOURCE,),
        )
    ]
    if not venue_ids:
        raise RuntimeError("no bench venues to hold events")
    year_start, _ = year_of(now)
    rows = event_rows(venue_ids, organiser_ids, count, year_start, seed)
    generated = time.perf_counter()
    with conn.transaction():
        _bulk_session(conn)
        conn.execute(
            "CREATE TEMP TABLE bench_evt_staging (n int, venue_id bigint, organiser_id bigint,"
            " starts_at timestamptz, ends_at timestamptz) ON COMMIT DROP"
        )
        with conn.cursor().copy(
            "COPY bench_evt_staging (n, venue_id, organiser_id, starts_at, ends_at) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        copied = time.perf_counter()
        # location = the venue's, as service/events/service.py:create does; period is a
        # generated column.
        conn.execute(
            "INSERT INTO events (venue_id, organiser_id, title, tags, starts_at, ends_at,"
            " location) SELECT s.venue_id, s.organiser_id, 'Bench event ' || s.n, '{}',"
            " s.starts_at, s.ends_at, v.location"
            " FROM bench_evt_staging s JOIN venues v ON v.id = s.venue_id ORDER BY s.n"
        )
    inserted = time.perf_counter()
    # FULL: a re-seed's deleted rows would otherwise leave the heap and the GiST index
    # twice their size (the index is rebuilt, by insertion in heap order, as before).
    conn.execute("VACUUM (FULL, ANALYZE) events")
    conn.execute("ANALYZE users")
    done = time.perf_counter()
    return {
        "events": count,
        "organisers": len(organiser_ids),
        "drop_old_s": round(dropped - started, 2),
        "generate_s": round(generated - dropped, 2),
        "copy_s": round(copied - generated, 2),
        "insert_s": round(inserted - copied, 2),
        "vacuum_analyze_s": round(done - inserted, 2),
        "total_s": round(done - started, 2),
        "rows_per_s": round(count / (inserted - generated)),
    }


def data_checks(conn: psycopg.Connection) -> dict:
    """Facts about the seeded events: span, lengths, location = venue's location."""
    row = conn.execute(
        "SELECT count(*), min(e.starts_at), max(e.ends_at),"
        " count(*) FILTER (WHERE e.ends_at - e.starts_at > interval '8 hours'),"
        " count(*) FILTER (WHERE ST_AsBinary(e.location) <> ST_AsBinary(v.location)),"
        " pg_total_relation_size('events'), pg_relation_size(%s::regclass)"
        " FROM events e JOIN venues v ON v.id = e.venue_id"
        " WHERE e.organiser_id IN (SELECT id FROM users WHERE handle LIKE %s)",
        (INDEX, HANDLE_LIKE),
    ).fetchone()
    return {
        "events": row[0],
        "first_start": row[1].isoformat() if row[1] else None,
        "last_end": row[2].isoformat() if row[2] else None,
        "conferences": row[3],
        "location_differs_from_venue": row[4],
        "events_total_mb": round(row[5] / 2**20, 1),
        "index_mb": round(row[6] / 2**20, 1),
    }


def query_windows(
    points: list, first_start: datetime, last_start: datetime, seed: int = 5
) -> list[tuple[float, float, str, str]]:
    """``(lat, lon, from, to)``: each point with a fixed-seed 7-day window starting at a
    whole minute between the first event start and a week before the last."""
    rng = random.Random(seed)
    span = (last_start - WINDOW - first_start).total_seconds()
    items = []
    for lat, lon in points:
        lower = first_start + timedelta(seconds=round(rng.uniform(0, span) / 60) * 60)
        items.append((lat, lon, lower.isoformat(), (lower + WINDOW).isoformat()))
    return items


# --- load generation (loadgen.py's loop; events need a window per query) -----------------


@dataclass(frozen=True)
class Probe:
    """What to load: an HTTP GET (``path``) or a raw query (``query``, a key of ``SQL``)."""

    name: str
    address: str  # "host:port" for HTTP, a libpq URL for raw SQL
    path: str = ""
    query: str = ""
    token: str = ""
    viewer_id: int = 0
    radius_m: float = 1000
    limit: int = 20


def window_params(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """The window a request asks about; without one, the endpoint's: now -> +7 days."""
    if start and end:
        return datetime.fromisoformat(start), datetime.fromisoformat(end)
    now = datetime.now(UTC)
    return now, now + WINDOW


def sql_params(probe: Probe, lat: float, lon: float, start=None, end=None) -> dict:
    """Bind parameters of ``probe``'s raw query at one point (rounded as over HTTP)."""
    params = {"lat": round(lat, 6), "lon": round(lon, 6), "limit": probe.limit}
    if probe.query == "venues_sql":
        return params | {"radius": float(probe.radius_m)}
    lower, upper = window_params(start, end)
    return params | {
        "srid": 4326,
        "status": "going",
        "viewer": probe.viewer_id,
        "r": float(probe.radius_m),
        "start": lower,
        "end": upper,
        "bounds": "[)",
        "offset": 0,
    }


def open_probe(probe: Probe):
    """A function running one query ``(lat, lon[, from, to])``; returns the result count."""
    if probe.query:
        conn = psycopg.connect(probe.address, autocommit=True, options=SERVICE_OPTIONS)
        cursor, sql = conn.cursor(), SQL[probe.query]

        def run_sql(lat: float, lon: float, start=None, end=None) -> int:
            cursor.execute(sql, sql_params(probe, lat, lon, start, end), prepare=True)
            return len(cursor.fetchall())

        return run_sql
    host, port = probe.address.rsplit(":", 1)
    http_conn = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Authorization": f"Bearer {probe.token}", "Accept": "application/json"}

    def run_http(lat: float, lon: float, start=None, end=None) -> int:
        args = {"lat": f"{lat:.6f}", "lon": f"{lon:.6f}", "radius_m": probe.radius_m}
        args["limit"] = probe.limit
        if start and end:
            args["from"], args["to"] = start, end
        try:
            http_conn.request("GET", f"{probe.path}?{urlencode(args)}", headers=headers)
            response = http_conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            http_conn.close()  # the next request reconnects
            raise
        if response.status != 200:
            raise QueryError(f"HTTP {response.status}: {body[:200]!r}")
        return len(json.loads(body)["items"])

    return run_http


def _worker(probe, items, offset, warmup_s, seconds, barrier, results) -> None:
    latencies: list[float] = []
    errors, first_error, elapsed, counted = 0, None, 0.0, 0
    try:
        query = open_probe(probe)
        barrier.wait(BARRIER_TIMEOUT_S)
        index = offset
        deadline = time.perf_counter() + warmup_s
        while time.perf_counter() < deadline:
            try:
                query(*items[index % len(items)])
            except ERRORS as exc:
                errors += 1
                first_error = first_error or f"warm-up: {exc!r}"
            index += 1
        barrier.wait(BARRIER_TIMEOUT_S)
        started = time.perf_counter()
        deadline = started + seconds
        while (now := time.perf_counter()) < deadline:
            try:
                counted += query(*items[index % len(items)])
                latencies.append(time.perf_counter() - now)
            except ERRORS as exc:
                errors += 1
                first_error = first_error or repr(exc)
            index += 1
        elapsed = time.perf_counter() - started
    except Exception as exc:  # report, do not hang the others
        barrier.abort()
        errors, first_error = errors + 1, repr(exc)
    results.put((latencies, errors, first_error, elapsed, counted))


def run_phase(probe: Probe, items: list, concurrency: int, warmup_s: float, seconds: float):
    """Load ``probe`` from ``concurrency`` processes (each from its own offset in
    ``items``); latency percentiles and throughput as ``loadgen.summarise`` reports."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(concurrency), ctx.Queue()
    stride = max(1, len(items) // concurrency)
    workers = [
        ctx.Process(
            target=_worker,
            args=(probe, items, n * stride, warmup_s, seconds, barrier, results),
            daemon=True,
        )
        for n in range(concurrency)
    ]
    for process in workers:
        process.start()
    timeout = BARRIER_TIMEOUT_S * 2 + warmup_s + seconds
    reports = [results.get(timeout=timeout) for _ in workers]
    for process in workers:
        process.join(10)
    return summarise(reports, concurrency)


# --- checks and plans ----------------------------------------------------------------


def token_user_id(token: str) -> int:
    """The user id (``sub``) inside an access token."""
    payload = token.split(".")[1]
    return int(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])


def sanity_check(probes: dict[str, Probe], items: list) -> dict:
    """The events endpoint must return what its SQL returns, nearest first."""
    endpoint, raw = probes["events"], probes["events_sql"]
    same, ordered, rows = 0, 0, 0
    with psycopg.connect(raw.address, autocommit=True, options=SERVICE_OPTIONS) as conn:
        for lat, lon, start, end in items[:SANITY_POINTS]:
            args = {"lat": f"{lat:.6f}", "lon": f"{lon:.6f}", "radius_m": endpoint.radius_m}
            args |= {"limit": endpoint.limit, "from": start, "to": end}
            path = f"{endpoint.path}?{urlencode(args)}"
            status, body = apiserver.request(endpoint.address, "GET", path, token=endpoint.token)
            if status != 200:
                raise RuntimeError(f"events/nearby answered {status}: {body}")
            api = [(item["distance_m"], item["id"]) for item in body["items"]]
            sql = conn.execute(EVENTS_SQL, sql_params(raw, lat, lon, start, end)).fetchall()
            same += {i for _, i in api} == {row[0] for row in sql}
            ordered += api == sorted(api)
            rows += len(api)
    checked = min(SANITY_POINTS, len(items))
    return {
        "points": checked,
        "endpoint_equals_raw_sql": same,
        "endpoint_nearest_first": ordered,
        "mean_rows": round(rows / max(1, checked), 1),
    }


def _walk(node: dict):
    yield node
    for child in node.get("Plans", ()):
        yield from _walk(child)


def summarise_plan(plan: dict) -> dict:
    """The facts that matter in one EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) result:
    how events are read (``shape``), whether through ``INDEX`` and in KNN order, how
    many events go on to the joins (``rows``), sorts, time and buffers."""
    nodes = list(_walk(plan["Plan"]))
    scan = next((node for node in nodes if node.get("Relation Name") == "events"), {})
    on_index = [node for node in nodes if node.get("Index Name") == INDEX]
    shape = scan.get("Node Type", "?")
    if on_index and on_index[0] is not scan:
        shape += f" <- {on_index[0]['Node Type']}"
    return {
        "execution_ms": plan.get("Execution Time"),
        "planning_ms": plan.get("Planning Time"),
        "shape": shape,
        "uses_index": bool(on_index),
        "knn_ordered": any(node.get("Order By") for node in on_index),
        "index_cond": on_index[0].get("Index Cond") if on_index else None,
        "rows": scan.get("Actual Rows"),
        "removed_by_filter": scan.get("Rows Removed by Filter", 0),
        "sorts": [node["Node Type"] for node in nodes if "Sort" in node["Node Type"]],
        "shared_hit": plan["Plan"].get("Shared Hit Blocks"),
        "shared_read": plan["Plan"].get("Shared Read Blocks"),
        "node_types": [node["Node Type"] for node in nodes],
    }


def plan_line(label: str, entry: dict) -> str:
    """One summarised plan on one line."""
    index = f"{INDEX}{' (KNN order)' if entry['knn_ordered'] else ''}"
    return (
        f"  {label:<15}{entry['execution_ms']:>7.2f} ms  {entry['shape']} on"
        f" {index if entry['uses_index'] else 'no index'}, {entry['rows']} events joined"
        f" ({entry['removed_by_filter']} dropped by ST_DWithin), {'+'.join(entry['sorts'])},"
        f" {entry['shared_hit']} buffers hit / {entry['shared_read']} read"
    )


def plan_totals(entries: list[dict]) -> dict:
    """Plan shapes over the samples and their execution times."""
    times = sorted(entry["execution_ms"] for entry in entries)
    shapes: dict[str, int] = {}
    for entry in entries:
        shapes[entry["shape"]] = shapes.get(entry["shape"], 0) + 1
    return {
        "samples": len(entries),
        "uses_index": sum(entry["uses_index"] for entry in entries),
        "knn_ordered": sum(entry["knn_ordered"] for entry in entries),
        "shapes": shapes,
        "median_ms": round(statistics.median(times), 3) if times else None,
        "max_ms": round(times[-1], 3) if times else None,
        "median_rows_joined": statistics.median(entry["rows"] or 0 for entry in entries),
    }


def _dollar_sql(sql: str) -> tuple[str, list[str]]:
    """``sql`` with ``$n`` for each distinct ``%(name)s`` (for PREPARE), and the names."""
    names: list[str] = []

    def number(match: re.Match) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    return re.sub(r"%\((\w+)\)s", number, sql), names


def explain(conninfo: str, probe: Probe, items: list) -> dict:
    """EXPLAIN ANALYZE the events SQL on ``items``: custom plans (parameters known, as
    the first executions of a prepared statement get) with ``totals`` over them, the
    default window at the first point, the generic plan (``plan_cache_mode =
    force_generic_plan``) a prepared statement may switch to, and the first in text."""
    report: dict = {"custom": [], "default": None, "generic": None, "text": None}
    options = "(ANALYZE, BUFFERS, FORMAT JSON)"
    with psycopg.connect(conninfo, autocommit=True, options=SERVICE_OPTIONS) as conn:
        for number, (lat, lon, start, end) in enumerate([*items, (*items[0][:2], None, None)]):
            params = sql_params(probe, lat, lon, start, end)
            conn.execute(EVENTS_SQL, params)  # warm the cache as the load phases do
            plan = conn.execute(f"EXPLAIN {options} {EVENTS_SQL}", params).fetchone()[0][0]
            if number < len(items):
                report["custom"].append(summarise_plan(plan))
            else:
                report["default"] = summarise_plan(plan)
        report["totals"] = plan_totals(report["custom"])
        lat, lon, start, end = items[0]
        params = sql_params(probe, lat, lon, start, end)
        report["text"] = "\n".join(
            row[0] for row in conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {EVENTS_SQL}", params)
        )
        dollar, names = _dollar_sql(EVENTS_SQL)
        conn.execute(f"PREPARE bench_evt_nearby AS {dollar}")
        try:
            conn.execute("SET plan_cache_mode = force_generic_plan")
            client = psycopg.ClientCursor(conn)
            values = ", ".join(["%s"] * len(names))
            client.execute(
                f"EXPLAIN {options} EXECUTE bench_evt_nearby({values})",
                [params[name] for name in names],
            )
            report["generic"] = summarise_plan(client.fetchone()[0][0])
        finally:
            conn.execute("RESET plan_cache_mode")
            conn.execute("DEALLOCATE bench_evt_nearby")
    return report


# --- main -----------------------------------------------------------------------------


def main() -> None:
    """Prepare, seed, serve, measure, report."""
    args = parse_args()
    started = time.perf_counter()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    conninfo = seeding.libpq_conninfo(url)
    seeding.prepare_and_migrate(url)
    centres, origin = seeding.load_centres()
    print(f"cluster centres: {len(centres):,} ({origin})", flush=True)
    now = datetime.now(UTC)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        venues_there = conn.execute(
            "SELECT count(*) FROM venues WHERE source = %s", (seeding.SOURCE,)
        ).fetchone()[0]
        if venues_there < args.venues:
            drop_events(conn)  # they refer to the venues seed_venues is about to replace
        print(f"seeding {args.venues:,} venues (skipped if present) ...", flush=True)
        venue_seed = seeding.seed_venues(conn, args.venues, centres)
        print(
            f"seeded venues in {venue_seed['total_s']} s"
            if venue_seed
            else "venues already seeded",
            flush=True,
        )
        print(f"seeding {args.events:,} events (skipped if present) ...", flush=True)
        event_seed = seed_events(conn, args.events, args.organisers, now, force=args.reseed)
        if event_seed:
            print(
                f"seeded {event_seed['events']:,} events in {event_seed['total_s']} s: generate"
                f" {event_seed['generate_s']} s, COPY {event_seed['copy_s']} s, INSERT (+ GiST)"
                f" {event_seed['insert_s']} s ({event_seed['rows_per_s']:,} rows/s), VACUUM FULL"
                f" ANALYZE {event_seed['vacuum_analyze_s']} s",
                flush=True,
            )
        else:
            print("events already seeded", flush=True)
        data = data_checks(conn)
        print(f"events: {data}", flush=True)
        _, first_start, last_start = bench_events(conn)
        venues = conn.execute("SELECT count(*) FROM venues").fetchone()[0]
        versions = conn.execute("SELECT version(), postgis_lib_version()").fetchone()

    points = seeding.query_points(centres, args.points)
    event_items = query_windows(points, first_start, last_start)
    default_items = [(lat, lon, None, None) for lat, lon in points]

    RESULTS.mkdir(exist_ok=True)
    results: dict[str, dict] = {}
    with apiserver.running_api(
        url, workers=args.workers, threads=args.threads, log=RESULTS / "gunicorn_events.log"
    ) as address:
        token = apiserver.register_user(address)
        common = {"radius_m": args.radius, "limit": args.limit}
        sql = {"address": conninfo, "viewer_id": token_user_id(token), **common}
        probes = {
            "venues": Probe("venues", address, "/api/v1/venues/nearby", token=token, **common),
            "events": Probe("events", address, "/api/v1/events/nearby", token=token, **common),
            "events_default": Probe(
                "events_default", address, "/api/v1/events/nearby", token=token, **common
            ),
            "venues_sql": Probe("venues_sql", query="venues_sql", **sql),
            "events_sql": Probe("events_sql", query="events_sql", **sql),
        }
        items = {
            "venues": points,
            "events": event_items,
            "events_default": default_items,
            "venues_sql": points,
            "events_sql": event_items,
        }
        sanity = sanity_check(probes, event_items)
        print(f"sanity: {sanity}", flush=True)
        print(f"EXPLAIN ANALYZE on {args.explain} samples ...", flush=True)
        plans = explain(conninfo, probes["events_sql"], event_items[: args.explain])
        for key, concurrency in (("c1", 1), ("cN", args.concurrency)):
            for name in TARGETS:
                print(f"measuring {name} at concurrency {concurrency} ...", flush=True)
                phase = run_phase(probes[name], items[name], concurrency, args.warmup, args.seconds)
                results.setdefault(name, {})[key] = phase

    def median(name: str) -> float | None:
        return results[name]["c1"].get("median_ms")

    ratios = {
        "events_over_venues_median_c1": ratio(median("events"), median("venues")),
        "events_default_over_venues_median_c1": ratio(median("events_default"), median("venues")),
        "events_over_venues_p95_c1": ratio(
            results["events"]["c1"].get("p95_ms"), results["venues"]["c1"].get("p95_ms")
        ),
        "venues_over_events_throughput_cN": ratio(
            results["venues"]["cN"]["throughput_rps"], results["events"]["cN"]["throughput_rps"]
        ),
        "events_sql_over_venues_sql_median_c1": ratio(median("events_sql"), median("venues_sql")),
        "events_endpoint_over_sql_median_c1": ratio(median("events"), median("events_sql")),
        "venues_endpoint_over_sql_median_c1": ratio(median("venues"), median("venues_sql")),
    }
    headline = ratios["events_over_venues_median_c1"]
    goal = "met" if headline is not None and headline <= 2 else "MISSED"
    total_s = round(time.perf_counter() - started, 1)

    print(
        f"\nnearby events: {data['events']:,} events ({data['first_start'][:10]} .."
        f" {data['last_end'][:10]}) at {venues:,} venues, radius {args.radius:g} m, limit"
        f" {args.limit}, 7-day windows, {args.points} points, {args.seconds:g} s per phase,"
        f" gunicorn {args.workers} workers x {args.threads} threads, {os.cpu_count()} CPUs\n"
    )
    print_table(results, LABELS, args.concurrency)
    totals = plans["totals"]
    print(
        f"\nEXPLAIN ANALYZE of the events SQL on {totals['samples']} samples (custom plans):"
        f" {totals['uses_index']} use {INDEX}, {totals['knn_ordered']} in KNN order;"
        f" shapes {totals['shapes']}; execution median {totals['median_ms']} ms, max"
        f" {totals['max_ms']} ms; median {totals['median_rows_joined']} events joined"
    )
    for number, entry in enumerate(plans["custom"][:EXPLAIN_SHOWN]):
        print(plan_line(f"window {number + 1}", entry))
    print(plan_line("default window", plans["default"]))
    print(plan_line("generic plan", plans["generic"]))
    print("  window 1 in full:\n    " + plans["text"].replace("\n", "\n    "))
    print(
        f"\nevents / venues (HTTP), median at c=1:  {headline}x  (goal <= 2x: {goal})"
        f"\n  default window / venues, median at c=1: "
        f"{ratios['events_default_over_venues_median_c1']}x"
        f"\n  events / venues, p95 at c=1:           {ratios['events_over_venues_p95_c1']}x"
        f"\n  venues / events, throughput at c={args.concurrency}:   "
        f"{ratios['venues_over_events_throughput_cN']}x"
        f"\n  events SQL / venues SQL, median at c=1: "
        f"{ratios['events_sql_over_venues_sql_median_c1']}x"
        f"\n  endpoint / SQL, median at c=1: events"
        f" {ratios['events_endpoint_over_sql_median_c1']}x,"
        f" venues {ratios['venues_endpoint_over_sql_median_c1']}x"
        f"\ntotal run time {total_s} s"
    )
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {key: str(value) for key, value in vars(args).items()},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "database": {"postgres": versions[0], "postgis": versions[1], "venues": venues},
        "events": data,
        "seed": {"venues": venue_seed, "events": event_seed},
        "sanity": sanity,
        "explain": plans,
        "results": results,
        "ratios": ratios,
        "goal_events_within_2x_venues": goal == "met",
        "total_s": total_s,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"results written to {args.output}")


if __name__ == "__main__":
    main()
