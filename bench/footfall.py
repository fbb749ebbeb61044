"""Benchmark venue footfall: the rollup against aggregating raw check-ins, in process and
over HTTP, and what keeping the rollup costs a check-in.

Issue "Venue owners": a busy venue (200 k check-ins in a year) answers
``GET /api/v1/venues/{id}/stats`` in <= 50 ms, at least 10x faster than aggregating raw
rows. On its own database (``footfall_seeding``: 1,000 New York venues, 60,000 people, a
year of check-ins, 200 k of them at one busy venue with regulars, occasional and one-time
visitors, staff, ~3 % flagged, ~2 % too soon, ~5 % private; 800 k elsewhere, all COPYed
in time order; the rollup built by ``backfill.rebuild``; VACUUM ANALYZE), for four spans
ending on the seed's last local day — (a) 30 days by day (the dashboard's default),
(b) 365 days by day, (c) the year by week, (d) 7 days by hour — it measures:

1. correctness: ``from_rollup.figures == from_raw.figures`` for each span (else it stops
   with exit status 1);
2. in process (``create_app`` + app context, the service's session): ``from_rollup.figures``
   and ``from_raw.figures`` (the raw baseline: what "aggregating raw rows" means), median
   and p95 over ``--repeats`` calls after ``--warmup``, each call its own transaction;
3. over HTTP against gunicorn (gevent, 2 workers), one keep-alive connection, as the
   owner: ``/stats?from&to&granularity`` (the rollup) and the same with ``&tz=UTC`` (the
   service then reads raw check-ins), median, p95 and requests/s at concurrency 1; each
   rollup answer is checked against ``figures.report`` of the in-process figures; and
   ``stats.csv`` of span (b) once;
4. ``EXPLAIN (ANALYZE, BUFFERS)`` of the rollup statement of span (b) (captured from
   ``from_rollup.figures`` itself), as a custom and as a generic plan: index-only scan on
   ``pk_venue_visits``? heap fetches, buffers, spills; the raw statement's plan too;
5. ``rollup.record`` per check-in: fresh ``checkins`` rows inserted in a transaction that
   is rolled back; a new visit now, a second check-in the same hour, and a replay landing
   weeks before a regular's later visits.

It prints one table and whether the goals hold on spans (a) and (b) (HTTP rollup median
<= 50 ms; raw / rollup >= 10x in process), and writes ``bench/results/footfall.json``
(commit, machine, load average before and after, every summary and plan; the gunicorn
log next to it). Database: ``BENCH_FOOTFALL_DATABASE_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/irl_bench_footfall``), created with
``scripts/prepare_db.py``, migrated with Alembic, seeded once (~40 s) and reused while
the seeding options stay the same (``--reseed`` forces it).

Rerun: ``.venv/bin/python bench/footfall.py`` (``--help`` for the options), or
``make bench BENCH_FOOTFALL_ARGS="..."``.
"""

import argparse
import http.client
import json
import os
import platform
import re
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import apiserver
import footfall_seeding as ff
import psycopg
import seeding
from checkin_throughput import code_version, other_benchmarks

if str(seeding.ROOT) not in sys.path:
    sys.path.insert(0, str(seeding.ROOT))

from sqlalchemy import event

from service import create_app
from service.database import db
from service.footfall import fold, from_raw, from_rollup, rollup
from service.footfall.figures import report
from service.footfall.grid import bucket_keys, make_range

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/irl_bench_footfall"
RESULTS = Path(__file__).resolve().parent / "results"
GOAL_MS = 50.0
GOAL_RATIO = 10.0
GOAL_SPANS = ("b", "a")
SPANS = {  # key: (label, days ending on the last day, granularity)
    "a": ("(a) 30 days by day", 30, "day"),
    "b": ("(b) 365 days by day", 365, "day"),
    "c": ("(c) 365 days by week", 365, "week"),
    "d": ("(d) 7 days by hour", 7, "hour"),
}
REPORT_KEYS = (
    "total_checkins",
    "unique_visitors",
    "new_visitors",
    "returning_visitors",
    "series",
    "weekday_hour",
    "peak_hour",
)


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--venues", type=int, default=1000, help="venues, the busy one included (1,000)")
    add("--users", type=int, default=60_000, help="people (60,000)")
    add("--busy-checkins", type=int, default=200_000, help="check-ins at the busy venue")
    add("--background", type=int, default=800_000, help="check-ins at the other venues")
    add("--seed", type=int, default=23, help="seed of the generated data")
    add("--reseed", action="store_true", help="seed again even if the options match")
    add("--repeats", type=int, default=200, help="timed calls per measurement (at most)")
    add("--warmup", type=int, default=5, help="untimed calls before each measurement")
    add("--max-seconds", type=float, default=8.0, help="stop a measurement after this long")
    add("--min-repeats", type=int, default=15, help="timed calls at least, whatever the time")
    add("--record-calls", type=int, default=2000, help="rollup.record calls per case")
    add("--workers", type=int, default=2, help="gunicorn workers (gevent)")
    add("--output", type=Path, default=RESULTS / "footfall.json")
    return parser.parse_args()


def seed_options(args) -> dict:
    """The options the seed depends on."""
    return {
        "venues": args.venues,
        "users": args.users,
        "busy": args.busy_checkins,
        "background": args.background,
        "seed": args.seed,
    }


def summary(values_ms: list[float], elapsed_s: float | None = None) -> dict:
    """n, median, p95, mean, min and max of latencies in ms (and requests/s)."""
    values = sorted(values_ms)
    q = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else values * 99
    found = {
        "n": len(values),
        "median_ms": round(statistics.median(values), 3),
        "p95_ms": round(q[94], 3),
        "mean_ms": round(statistics.fmean(values), 3),
        "min_ms": round(values[0], 3),
        "max_ms": round(values[-1], 3),
    }
    if elapsed_s:
        found["throughput_rps"] = round(len(values) / elapsed_s, 1)
    return found


def repeat(call: Callable[[], object], args, after: Callable[[], object] = lambda: None):
    """Time ``call`` (ms) ``--repeats`` times after ``--warmup`` untimed calls, stopping
    after ``--max-seconds`` once ``--min-repeats`` are done; ``after`` runs untimed after
    each. Returns the latencies and the wall time of the timed calls (with ``after``)."""
    for _ in range(args.warmup):
        call()
        after()
    latencies: list[float] = []
    started = time.perf_counter()
    while len(latencies) < args.repeats:
        at = time.perf_counter()
        call()
        latencies.append((time.perf_counter() - at) * 1000)
        after()
        if len(latencies) >= args.min_repeats and time.perf_counter() - started > args.max_seconds:
            break
    return latencies, time.perf_counter() - started


# --- database and spans -------------------------------------------------------------------


def prepare(url: str, args) -> dict:
    """Create, migrate and (if needed) seed the database; the seed's record and facts."""
    seeding.prepare_and_migrate(url)
    options = seed_options(args)
    with psycopg.connect(seeding.libpq_conninfo(url), autocommit=True) as conn:
        if args.reseed:
            conn.execute(f"DROP TABLE IF EXISTS {ff.MARK}")
        print(f"seeding (skipped if there) ... {options}", flush=True)
        timings = ff.seed(conn, url, options)
        vacuum_s = vacuum(conn)
        record = ff.seeded(conn)
        known = record["facts"]
        facts = ff.facts(conn, known["busy_venue_id"], known["staff_ids"])
        versions = conn.execute("SELECT version(), postgis_lib_version()").fetchone()
        settings = dict(
            conn.execute(
                "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN"
                " ('shared_buffers', 'work_mem', 'effective_cache_size', 'random_page_cost',"
                " 'max_parallel_workers_per_gather', 'jit')"
            ).fetchall()
        )
    print(f"  {'seeded now' if timings else 'reused the seed'}: {record['timings']}", flush=True)
    return {
        "seeded_now": timings is not None,
        "vacuum_s": vacuum_s,
        "record": record,
        "facts": {**facts, "postgres": versions[0], "postgis": versions[1]},
        "pg_settings": settings,
    }


def vacuum(conn: psycopg.Connection) -> float:
    """VACUUM the rollup and the check-ins, so every run reads the same all-visible pages
    (rows written and rolled back by an earlier run's ``rollup.record`` measurement clear
    visibility-map bits, and index-only scans then fetch heap pages); ``INDEX_CLEANUP ON``
    because with dead items on under 2 % of the pages VACUUM skips the indexes and leaves
    those pages not all-visible. Seconds."""
    started = time.perf_counter()
    conn.execute("VACUUM (INDEX_CLEANUP ON) venue_visits")
    conn.execute("VACUUM (INDEX_CLEANUP ON) checkins")
    return round(time.perf_counter() - started, 2)


def make_spans(last_day: date, zone: str) -> dict[str, dict]:
    """Each span's query (from, to, granularity) and its normalised range."""
    spans = {}
    for key, (label, days, granularity) in SPANS.items():
        first = last_day - timedelta(days=days - 1)
        spans[key] = {
            "label": label,
            "from": first,
            "to": last_day,
            "granularity": granularity,
            "range": make_range(first, last_day, zone, granularity),
        }
    return spans


def bench_app(url: str):
    """The service's app on the bench database (its own settings: jit off, 15 s timeout)."""
    return create_app({"DATABASE_URL": url, "JWT_SECRET_KEY": secrets.token_urlsafe(48)})


# --- 1. correctness -----------------------------------------------------------------------


def describe_difference(rolled, raw) -> dict:
    """Where two Figures differ (a few keys of each part)."""
    found: dict = {}
    if rolled.total != raw.total:
        found["total"] = {"rollup": vars(rolled.total), "raw": vars(raw.total)}
    for part in ("buckets", "cells"):
        a, b = getattr(rolled, part), getattr(raw, part)
        keys = sorted((k for k in set(a) | set(b) if a.get(k) != b.get(k)), key=str)
        if keys:
            found[part] = {
                "differing": len(keys),
                "examples": [
                    {
                        "key": str(k),
                        "rollup": vars(a[k]) if k in a else None,
                        "raw": vars(b[k]) if k in b else None,
                    }
                    for k in keys[:5]
                ],
            }
    return found


def check_equal(app, venue_id: int, spans: dict) -> tuple[dict, dict]:
    """``from_rollup.figures == from_raw.figures`` per span, once the venue's logged
    changes are folded; the verdicts and the rollup figures (for checking the HTTP
    answers)."""
    verdicts, figures = {}, {}
    with app.app_context():
        fold.catch_up(db.session, venue_id=venue_id)  # as a stats read does first
        for key, span in spans.items():
            rolled = from_rollup.figures(db.session, venue_id, span["range"])
            raw = from_raw.figures(db.session, venue_id, span["range"])
            db.session.commit()
            figures[key] = rolled
            verdicts[key] = {
                "equal": rolled == raw,
                "buckets": len(rolled.buckets),
                "cells": len(rolled.cells),
                "total": vars(rolled.total),
            }
            if rolled != raw:
                verdicts[key]["difference"] = describe_difference(rolled, raw)
    return verdicts, figures


# --- 2. in process ------------------------------------------------------------------------


def measure_in_process(app, venue_id: int, spans: dict, args) -> dict:
    """Median / p95 of both readers on every span, and raw / rollup."""
    results = {}
    with app.app_context():
        for key, span in spans.items():
            results[key] = {}
            for name, reader in (("rollup", from_rollup), ("raw", from_raw)):
                latencies, _ = repeat(
                    lambda reader=reader, span=span: reader.figures(
                        db.session, venue_id, span["range"]
                    ),
                    args,
                    after=db.session.commit,
                )
                results[key][name] = summary(latencies)
            results[key]["raw_over_rollup"] = ratio(
                results[key]["raw"]["median_ms"], results[key]["rollup"]["median_ms"]
            )
            print(
                f"  in process {span['label']}: rollup {results[key]['rollup']['median_ms']} ms,"
                f" raw {results[key]['raw']['median_ms']} ms",
                flush=True,
            )
    return results


def measure_use_case(app, owner_id: int, venue_id: int, spans: dict, args) -> dict:
    """``service.footfall.service.stats`` as the owner (the rollup path): what the view
    runs besides serialising (access check, figures, meetings, report)."""
    from service.footfall import service
    from service.models import User

    results = {}
    with app.app_context():
        owner = db.session.get(User, owner_id)
        for key, span in spans.items():

            def call(span=span):
                return service.stats(
                    db_session=db.session,
                    user=owner,
                    venue_id=venue_id,
                    first=span["from"],
                    last=span["to"],
                    granularity=span["granularity"],
                )

            latencies, _ = repeat(call, args, after=db.session.commit)
            results[key] = summary(latencies)
    return results


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None without both."""
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 1)


# --- 3. HTTP ------------------------------------------------------------------------------


class Client:
    """One keep-alive connection sending GETs as the owner."""

    def __init__(self, address: str, token: str):
        host, port = address.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def get(self, path: str) -> tuple[int, dict, bytes]:
        """Status, headers and body."""
        try:
            self.conn.request("GET", path, headers=self.headers)
            response = self.conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            raise

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def stats_path(venue_id: int, span: dict, tz: str | None = None, csv: bool = False) -> str:
    """The stats URL of a span."""
    query = {
        "from": span["from"].isoformat(),
        "to": span["to"].isoformat(),
        "granularity": span["granularity"],
    }
    if tz:
        query["tz"] = tz
    return f"/api/v1/venues/{venue_id}/stats{'.csv' if csv else ''}?{urlencode(query)}"


def check_answer(body: dict, span: dict, figures, source: str) -> list[str]:
    """What is wrong with a stats answer (the rollup ones must equal ``figures.report`` of
    the in-process figures: no meetings are seeded)."""
    problems = []
    if body.get("source") != source:
        problems.append(f"source {body.get('source')!r}, expected {source!r}")
    if source == "rollup":
        expected = report(span["range"], figures)
        for key in REPORT_KEYS:
            if body.get(key) != expected[key]:
                problems.append(f"{key} differs from the in-process report")
    return problems


def measure_http(client: Client, venue_id: int, spans: dict, figures: dict, args) -> dict:
    """Every span through the rollup and through raw check-ins (``tz=UTC``)."""
    results = {}
    for key, span in spans.items():
        results[key] = {}
        for name, tz, source in (("rollup", None, "rollup"), ("raw_utc", "UTC", "raw")):
            path = stats_path(venue_id, span, tz)
            status, _, body = client.get(path)
            if status != 200:
                raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
            problems = check_answer(json.loads(body), span, figures[key], source)
            failures = []

            def call(path=path, failures=failures):
                got = client.get(path)[0]
                if got != 200:
                    failures.append(got)

            latencies, elapsed = repeat(call, args)
            results[key][name] = {
                **summary(latencies, elapsed),
                "path": path,
                "problems": problems,
                "non_200": len(failures),
                "bytes": len(body),
            }
        results[key]["raw_over_rollup"] = ratio(
            results[key]["raw_utc"]["median_ms"], results[key]["rollup"]["median_ms"]
        )
        print(
            f"  HTTP {span['label']}: rollup {results[key]['rollup']['median_ms']} ms,"
            f" tz=UTC {results[key]['raw_utc']['median_ms']} ms",
            flush=True,
        )
    return results


def measure_csv(client: Client, venue_id: int, span: dict) -> dict:
    """``stats.csv`` of one span, once: status, type, rows, time."""
    path = stats_path(venue_id, span, csv=True)
    started = time.perf_counter()
    status, headers, body = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    lines = body.decode().splitlines()
    expected = 2 + len(bucket_keys(span["range"])) + 7 * 24
    return {
        "path": path,
        "status": status,
        "content_type": headers.get("Content-Type"),
        "ms": round(elapsed, 2),
        "lines": len(lines),
        "expected_lines": expected,
        "ok": status == 200 and len(lines) == expected and lines[1].startswith("total,"),
    }


def run_http(url: str, owner_id: int, venue_id: int, spans: dict, figures: dict, args) -> dict:
    """Start gunicorn (gevent), mint the owner's token, measure, stop."""
    secret = secrets.token_urlsafe(48)
    token = apiserver.mint_tokens(url, secret, [owner_id])[owner_id]
    os.environ.pop("GUNICORN_WORKER_CLASS", None)  # gunicorn.conf.py's default: gevent
    RESULTS.mkdir(exist_ok=True)
    log = RESULTS / "footfall.gunicorn.log"
    with apiserver.running_api(
        url, workers=args.workers, threads=1, log=log, jwt_secret=secret
    ) as address:
        client = Client(address, token)
        try:
            stats = measure_http(client, venue_id, spans, figures, args)
            csv = measure_csv(client, venue_id, spans["b"])
        finally:
            client.close()
    return {"stats": stats, "csv": csv}


# --- 4. EXPLAIN ---------------------------------------------------------------------------


def capture(app, call: Callable[[], object]) -> tuple[str, dict]:
    """The last SQL statement ``call`` sends through the app's engine, with parameters."""
    return capture_all(app, call)[-1]


def capture_all(app, call: Callable[[], object]) -> list[tuple[str, dict]]:
    """Every SQL statement ``call`` sends through the app's engine, with parameters."""
    seen: list[tuple[str, dict]] = []

    def listener(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, dict(parameters or {})))

    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", listener)
        try:
            call()
            db.session.rollback()
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    return seen


def plan_nodes(node: dict) -> list[dict]:
    """Every node of a JSON plan, flattened, with what matters here."""
    keys = (
        "Node Type",
        "Relation Name",
        "Index Name",
        "Actual Rows",
        "Actual Loops",
        "Heap Fetches",
        "Rows Removed by Filter",
        "Exact Heap Blocks",
        "Strategy",
        "Peak Memory Usage",
        "Disk Usage",
        "HashAgg Batches",
        "Sort Method",
        "Sort Space Type",
        "Workers Launched",
        "Shared Hit Blocks",
        "Shared Read Blocks",
        "Temp Read Blocks",
        "Temp Written Blocks",
    )
    found = [{key: node[key] for key in keys if key in node}]
    for child in node.get("Plans", ()):
        found += plan_nodes(child)
    return found


def plan_summary(plan: dict) -> dict:
    """Times, buffers, scans and spills of one ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)``."""
    top = plan["Plan"]
    nodes = plan_nodes(top)
    scans = [n for n in nodes if "Scan" in n["Node Type"]]
    index_only = [
        n
        for n in scans
        if n["Node Type"] == "Index Only Scan" and n.get("Index Name") == "pk_venue_visits"
    ]
    return {
        "execution_ms": round(plan["Execution Time"], 2),
        "planning_ms": round(plan.get("Planning Time", 0.0), 2),
        "shared_hit": top.get("Shared Hit Blocks", 0),
        "shared_read": top.get("Shared Read Blocks", 0),
        "temp_written": top.get("Temp Written Blocks", 0),
        "index_only_on_pk_venue_visits": bool(index_only),
        "heap_fetches": sum(n.get("Heap Fetches", 0) for n in index_only) if index_only else None,
        "rows_scanned": sum(n.get("Actual Rows", 0) * n.get("Actual Loops", 1) for n in scans),
        "scans": [
            n["Node Type"]
            + (f" on {n['Relation Name']}" if n.get("Relation Name") else "")
            + (f" using {n['Index Name']}" if n.get("Index Name") else "")
            for n in scans
        ],
        "spilled": any(n.get("Disk Usage") or n.get("Sort Space Type") == "Disk" for n in nodes)
        or bool(top.get("Temp Written Blocks")),
        "nodes": nodes,
    }


def _dollar_sql(sql: str) -> tuple[str, list[str]]:
    """``sql`` with ``$n`` for each distinct ``%(name)s`` (for PREPARE), and the names."""
    names: list[str] = []

    def number(match: re.Match) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    return re.sub(r"%\((\w+)\)s", number, sql), names


def explain(conninfo: str, sql: str, params: dict, runs: int = 5) -> dict:
    """Custom plan (the last of ``runs``, warm), the median execution time without
    per-node timing (``TIMING OFF``: closer to a plain run), the generic plan of the
    statement prepared (what a connection may switch to after psycopg prepares it), and
    the text."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET jit = off")  # as the service's connections
        conn.execute("SET timezone = 'UTC'")
        for _ in range(runs):
            (custom,) = conn.execute(
                f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params
            ).fetchone()[0]
        plain = []
        for _ in range(runs):
            (quiet,) = conn.execute(
                f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {sql}", params
            ).fetchone()[0]
            plain.append(quiet["Execution Time"])
        text = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}", params).fetchall()
        dollar, names = _dollar_sql(sql)
        conn.execute(f"PREPARE bench_footfall AS {dollar}")
        client = psycopg.ClientCursor(conn)
        try:
            conn.execute("SET plan_cache_mode = force_generic_plan")
            arguments = ", ".join(["%s"] * len(names))
            for _ in range(runs):
                client.execute(
                    f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE bench_footfall({arguments})",
                    [params[name] for name in names],
                )
                (generic,) = client.fetchone()[0]
        finally:
            conn.execute("RESET plan_cache_mode")
            conn.execute("DEALLOCATE bench_footfall")
    return {
        "custom": plan_summary(custom),
        "execution_ms_timing_off_median": round(statistics.median(plain), 2),
        "generic": plan_summary(generic),
        "text": "\n".join(row[0] for row in text),
        "sql": sql,
    }


def explain_span(app, conninfo: str, venue_id: int, span: dict) -> dict:
    """EXPLAIN both readers' statements for a span."""
    found = {}
    for name, reader in (("rollup", from_rollup), ("raw", from_raw)):
        sql, params = capture(
            app, lambda reader=reader: reader.figures(db.session, venue_id, span["range"])
        )
        found[name] = explain(conninfo, sql, params)
    return found


# --- 5. what the rollup costs a check-in --------------------------------------------------


def _checkins(venue, users: list[int], at: list[datetime], zone: str) -> list:
    """Transient eligible check-ins at ``venue`` (flushed by the caller)."""
    from zoneinfo import ZoneInfo

    from service.models import Checkin

    return [
        Checkin(
            user_id=user_id,
            venue_id=venue.id,
            location=venue.location,
            accuracy_m=10.0,
            private=False,
            effective_at=when,
            local_day=when.astimezone(ZoneInfo(zone)).date(),
            eligible=True,
            reasons=[],
            points=5,
            created_at=when,
        )
        for user_id, when in zip(users, at, strict=True)
    ]


def _time_records(session, rows: list, zone: str) -> list[float]:
    """Insert the rows (untimed), then time ``rollup.record`` of each (ms)."""
    session.add_all(rows)
    session.flush()
    latencies = []
    for checkin in rows:
        started = time.perf_counter()
        rollup.record(db_session=session, checkin=checkin, zone=zone)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def measure_record(app, known: dict, calls: int) -> dict:
    """``rollup.record`` on fresh check-ins in one transaction that is rolled back: a
    first visit this hour now (insert), the same people again a second later (the
    conflict update), and check-ins replayed 30 days back by people with visits since
    (the marks of their following rows are fixed)."""
    from sqlalchemy import select

    from service.models import Venue, VenueStaff, VenueVisit

    zone, busy = known["zone"], known["busy_venue_id"]
    visitors = known["visitor_ids_sample"][:calls]
    now = datetime.now(UTC).replace(minute=0, second=1, microsecond=0)
    back = now - timedelta(days=30, hours=5)
    results = {}
    with app.app_context():
        session = db.session
        venue = session.get(Venue, busy)
        staff = select(VenueStaff.user_id).where(VenueStaff.venue_id == busy)
        returning = list(
            session.scalars(
                select(VenueVisit.user_id)
                .where(
                    VenueVisit.venue_id == busy,
                    VenueVisit.hour_start > back,
                    VenueVisit.user_id.not_in(staff),
                )
                .group_by(VenueVisit.user_id)
                .order_by(VenueVisit.user_id)
                .limit(calls)
            )
        )
        try:
            steps = (
                ("new_visit_now", visitors, now),
                ("same_hour_again", visitors, now + timedelta(seconds=1)),
                ("replayed_30_days_back", returning, back),
            )
            for name, users, base in steps:
                at = [base + timedelta(microseconds=i) for i in range(len(users))]
                latencies = _time_records(session, _checkins(venue, users, at, zone), zone)
                results[name] = summary(latencies)
        finally:
            session.rollback()
    return results


# --- report -------------------------------------------------------------------------------


def goals(in_process: dict, http: dict) -> dict:
    """Whether the issue's goals hold on spans (b) and (a)."""
    found = {}
    for key in GOAL_SPANS:
        median = http[key]["rollup"]["median_ms"]
        speedup = in_process[key]["raw_over_rollup"]
        found[key] = {
            "http_rollup_median_ms": median,
            "http_rollup_p95_ms": http[key]["rollup"]["p95_ms"],
            "within_50_ms": median <= GOAL_MS,
            "raw_over_rollup_in_process": speedup,
            "raw_over_rollup_http": http[key]["raw_over_rollup"],
            "at_least_10x": speedup is not None and speedup >= GOAL_RATIO,
        }
    return found


def print_table(spans: dict, checks: dict, in_process: dict, use_case: dict, http: dict) -> None:
    """The one table: both readers in process and over HTTP, per span."""
    head = (
        f"{'span':22}{'bkts':>5}{'equal':>6} |{'rollup':>8}{'p95':>7}{'raw':>8}{'p95':>8}"
        f"{'raw/r':>7}{'stats()':>9} |{'rollup':>8}{'p95':>7}{'req/s':>6}{'tz=UTC':>8}"
        f"{'p95':>8}{'req/s':>6}{'raw/r':>7}"
    )
    print(f"{'':34}| in process (ms){'':31}| HTTP, c=1 (ms)")
    print(head + "\n" + "-" * len(head))
    for key, span in spans.items():
        one, web = in_process[key], http[key]
        print(
            f"{span['label']:22}{len(bucket_keys(span['range'])):>5}"
            f"{'yes' if checks[key]['equal'] else 'NO':>6} |"
            f"{one['rollup']['median_ms']:>8.2f}{one['rollup']['p95_ms']:>7.2f}"
            f"{one['raw']['median_ms']:>8.1f}{one['raw']['p95_ms']:>8.1f}"
            f"{one['raw_over_rollup'] or 0:>6.1f}x{use_case[key]['median_ms']:>9.2f} |"
            f"{web['rollup']['median_ms']:>8.2f}{web['rollup']['p95_ms']:>7.2f}"
            f"{web['rollup']['throughput_rps']:>6.0f}"
            f"{web['raw_utc']['median_ms']:>8.1f}{web['raw_utc']['p95_ms']:>8.1f}"
            f"{web['raw_utc']['throughput_rps']:>6.0f}{web['raw_over_rollup'] or 0:>6.1f}x"
        )
    print(
        "(ms; in process: from_rollup.figures / from_raw.figures, each call its own"
        " transaction, raw/r = raw median / rollup median, stats() = the whole use case"
        " service.stats as the owner, median; HTTP: GET /stats as the owner, rollup = the"
        " venue's zone, tz=UTC = from raw check-ins)"
    )


def print_explain(explained: dict) -> None:
    """One line per plan."""
    for reader in ("rollup", "raw"):
        print(
            f"EXPLAIN {reader} (b): execution without per-node timing, median of 5:"
            f" {explained[reader]['execution_ms_timing_off_median']} ms"
        )
        for kind in ("custom", "generic"):
            e = explained[reader][kind]
            print(
                f"EXPLAIN {reader} (b), {kind} plan: {e['execution_ms']} ms (planning"
                f" {e['planning_ms']}), index-only on pk_venue_visits:"
                f" {'yes' if e['index_only_on_pk_venue_visits'] else 'no'}, heap fetches"
                f" {e['heap_fetches']}, buffers hit {e['shared_hit']:,} read {e['shared_read']:,},"
                f" rows scanned {e['rows_scanned']:,}, spilled {'yes' if e['spilled'] else 'no'};"
                f" {'; '.join(dict.fromkeys(e['scans']))}"
            )


def print_goals(found: dict, spans: dict) -> None:
    """The goal lines."""
    for key, g in found.items():
        print(
            f"goal {spans[key]['label']}: HTTP rollup median {g['http_rollup_median_ms']:.1f} ms"
            f" (p95 {g['http_rollup_p95_ms']:.1f}) <= {GOAL_MS:g} ms:"
            f" {'yes' if g['within_50_ms'] else 'NO'}; raw/rollup in process"
            f" {g['raw_over_rollup_in_process']}x (HTTP {g['raw_over_rollup_http']}x) >="
            f" {GOAL_RATIO:g}x: {'yes' if g['at_least_10x'] else 'NO'}"
        )


def print_record(record: dict) -> None:
    """What rollup.record costs."""
    labels = {
        "new_visit_now": "new visit row (insert)",
        "same_hour_again": "same person, same hour (conflict update)",
        "replayed_30_days_back": "replayed 30 days back, later visits (fixes)",
    }
    for key, label in labels.items():
        r = record[key]
        print(
            f"rollup.record, {label}: median {r['median_ms']:.3f} ms, p95 {r['p95_ms']:.3f},"
            f" mean {r['mean_ms']:.3f} (n={r['n']})"
        )


def main() -> None:
    """Seed, check, measure, report."""
    args = parse_args()
    started = time.perf_counter()
    load_before = os.getloadavg()
    busy = other_benchmarks()
    if busy:
        print("WARNING: other benchmarks or servers are running; numbers will be skewed:")
        print("\n".join(f"  {line}" for line in busy), flush=True)
    url = os.environ.get("BENCH_FOOTFALL_DATABASE_URL", DEFAULT_URL)
    conninfo = seeding.libpq_conninfo(url)
    state = prepare(url, args)
    known, facts = state["record"]["facts"], state["facts"]
    venue_id, owner_id = known["busy_venue_id"], known["owner_id"]
    last_day = date.fromisoformat(known["last_day"])
    spans = make_spans(last_day, known["zone"])
    age_days = (time.time() - known["now"]) / 86400
    print(
        f"busy venue {venue_id}: {facts['busy_checkins']:,} check-ins,"
        f" {facts['busy_rollup_rows']:,} rollup rows; spans end {last_day} (seeded"
        f" {age_days:.1f} days ago)",
        flush=True,
    )

    app = bench_app(url)
    checks, figures = check_equal(app, venue_id, spans)
    bad = {key: check for key, check in checks.items() if not check["equal"]}
    for key, check in bad.items():
        print(f"MISMATCH {spans[key]['label']}: rollup != raw: {check['difference']}")
    if not bad:
        print("rollup == raw on every span", flush=True)
    explained = explain_span(app, conninfo, venue_id, spans["b"]) if not bad else None
    in_process = measure_in_process(app, venue_id, spans, args) if not bad else None
    use_case = measure_use_case(app, owner_id, venue_id, spans, args) if not bad else None
    http = run_http(url, owner_id, venue_id, spans, figures, args) if not bad else None
    record = measure_record(app, known, args.record_calls) if not bad else None
    with psycopg.connect(conninfo, autocommit=True) as conn:
        vacuum(conn)  # leave no cleared visibility bits behind for the next run
    load_after = os.getloadavg()
    code = code_version()

    found = None
    if not bad:
        dirty = ", uncommitted service changes" if code.get("service_changes_uncommitted") else ""
        print(
            f"\nfootfall (code {code.get('commit')}{dirty}): {facts['checkins']:,} check-ins,"
            f" {facts['busy_checkins']:,} at the busy venue ({facts['busy_distinct_people']:,}"
            f" people, {facts['busy_rollup_rows']:,} rollup rows); {os.cpu_count()} CPUs; load"
            f" average {load_before[0]:.2f} before, {load_after[0]:.2f} after\n"
        )
        print_table(spans, checks, in_process, use_case, http["stats"])
        print()
        print_explain(explained)
        found = goals(in_process, http["stats"])
        print_goals(found, spans)
        csv = http["csv"]
        print(
            f"stats.csv (b): {csv['status']} {csv['content_type']}, {csv['lines']} lines"
            f" (expected {csv['expected_lines']}), {csv['ms']} ms: {'ok' if csv['ok'] else 'BAD'}"
        )
        problems = {
            f"{key}/{name}": r["problems"] or r["non_200"]
            for key, per in http["stats"].items()
            for name, r in per.items()
            if isinstance(r, dict) and (r["problems"] or r["non_200"])
        }
        for where, what in problems.items():
            print(f"WARNING: HTTP {where}: {what}")
        print_record(record)
    total_s = round(time.perf_counter() - started, 1)
    print(f"\ntotal run time {total_s} s")
    output = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {key: str(value) for key, value in vars(args).items()},
        "code": code,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_before": [round(value, 2) for value in load_before],
            "load_average_after": [round(value, 2) for value in load_after],
            "pg_settings": state["pg_settings"],
        },
        "other_benchmarks_running_at_start": busy,
        "seed": {
            "seeded_now": state["seeded_now"],
            "vacuum_before_run_s": state["vacuum_s"],
            "options": state["record"]["options"],
            "timings": state["record"]["timings"],
            "facts": {k: v for k, v in known.items() if not k.endswith("_sample")},
        },
        "database": facts,
        "spans": {
            key: {
                "label": s["label"],
                "from": s["from"],
                "to": s["to"],
                "granularity": s["granularity"],
                "range": [s["range"].first, s["range"].last],
                "buckets": len(bucket_keys(s["range"])),
            }
            for key, s in spans.items()
        },
        "correctness": checks,
        "in_process": in_process,
        "use_case_in_process": use_case,
        "http": http,
        "explain_b": explained,
        "record": record,
        "goals": found,
        "total_s": total_s,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2, default=str) + "\n")
    print(f"results written to {args.output}")
    if bad:
        sys.exit(1)


if __name__ == "__main__":
    main()
