"""Performance at scale: the whole product on one seeded world, measured side by side.

The world (``BENCH_SCALE_DATABASE_URL``, default ``.../irl_bench_scale``; seeded once by
``scale_seeding`` and reused while the options match): 1,000,000 venues clustered like
New York, 100,000 users with exactly 50 mutual contacts each, 10,000,000 check-ins over
the past year with the rewards state they imply — 200,000 of them at one busy venue
(regulars, occasional and one-time visitors, staff; one user owns it) — 200,000 events
over the year centred on now, the footfall rollup built from the check-ins, and 3 recent
check-ins per user re-made relative to now at the start of every run (``scale_recent``).

Against gunicorn started as ``make run`` starts it (``gunicorn.conf.py``: gevent
workers; ``--workers``, default 2), rate limits out of the way (every limit 100,000,000 a
minute, ``CHECKINS_PER_HOUR`` huge, in-process limiter: ``REDIS_URL`` unset), load from
wrk (``scale_wrk``, Lua scripts in ``bench/wrk/``) and the raw SQL from pgbench
(``scale_pgbench``), it measures median, p99 and throughput of:

- nearby venues (``GET /venues/nearby``, r=1000 m, limit 20) against the service's SQL
  for it alone, nearby contacts and nearby events (r=1000 m), at concurrency 1 and 8, on
  the same fixed-seed positions near venue clusters, each request as a random user;
- ``POST /checkins`` with 8 clients, every check-in by a distinct user and eligible (the
  whole path: pair locks, rules, meetings, rewards, badges, nearby fan-out, footfall
  rollup, notifications), with CPU milliseconds per check-in of the API workers,
  PostgreSQL and wrk (``checkin_monitor``) and what the database says they did;
- the busy venue's footfall as its owner (``GET /venues/{id}/stats``, 30 and 365 days,
  from the rollup) against the same with ``&tz=UTC`` (aggregated from raw check-ins);
- the scale curve: nearby venues at 100 k, 1 M (the world) and 10 M venues (databases
  ``..._100k`` and ``..._10m`` with venues and one user; the API restarted on each).

Each phase runs ``--rounds`` times (default 3), round robin with the phases it is
compared with, after a warm-up; the table shows the median of the rounds. It prints one
table, the issue's goals with PASS / FAIL, the machine, the commit and the load average
before and after, and writes ``bench/results/scale.json`` (gunicorn logs next to it).

Rerun: ``make bench`` (options through ``BENCH_ARGS``) or
``.venv/bin/python bench/scale.py --help``; a small world for a smoke test:
``BENCH_SCALE_DATABASE_URL=...irl_bench_scale_smoke .venv/bin/python bench/scale.py
--venues 20000 --users 8000 --checkins 200000 --busy-checkins 20000 --events 2000
--curve 5000,50000 --seconds 2 --warmup 1``.
"""

import argparse
import json
import os
import random
import secrets
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import apiserver
import footfall
import psycopg
import scale_checkins
import scale_pgbench
import scale_recent
import scale_report
import scale_seeding
import scale_wrk
import seeding
from checkin_monitor import PhaseMonitor

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/irl_bench_scale"
RESULTS = Path(__file__).resolve().parent / "results"
TOKEN_MINUTES = 24 * 60
UNLIMITED = "100000000 per minute"
API_ENV = {
    "RATE_LIMIT_WRITES": UNLIMITED,
    "RATE_LIMIT_READS": UNLIMITED,
    "RATE_LIMIT_NEARBY": UNLIMITED,
    "RATE_LIMIT_AUTH": UNLIMITED,
    "CHECKINS_PER_HOUR": "100000000",
    "JWT_ACCESS_MINUTES": str(TOKEN_MINUTES),
    "REDIS_URL": None,
    "RATELIMIT_STORAGE_URI": None,
    "DATABASE_REPLICA_URLS": None,
}
READS = ("venues", "venues_sql", "contacts", "events")
FOOTFALL = {"ff30": (30, None), "ff30_raw": (30, "UTC"), "ff365": (365, None)}
FOOTFALL["ff365_raw"] = (365, "UTC")
FOOTFALL_SQL = tuple(f"{name}_sql" for name in FOOTFALL)
LABELS = {
    "venues": "nearby venues GET /venues/nearby (wrk)",
    "venues_sql": "nearby venues, the service's SQL alone (pgbench)",
    "contacts": "nearby contacts GET /nearby/contacts (wrk)",
    "events": "nearby events GET /events/nearby (wrk)",
    "checkins": "check-ins POST /checkins, distinct users (wrk)",
    "ff30": "footfall 30 days, rollup (wrk)",
    "ff30_raw": "footfall 30 days, raw check-ins &tz=UTC (wrk)",
    "ff365": "footfall 365 days, rollup (wrk)",
    "ff365_raw": "footfall 365 days, raw check-ins &tz=UTC (wrk)",
    "ff30_sql": "footfall 30 days, the rollup's SQL alone (pgbench)",
    "ff30_raw_sql": "footfall 30 days, the raw SQL alone (pgbench)",
    "ff365_sql": "footfall 365 days, the rollup's SQL alone (pgbench)",
    "ff365_raw_sql": "footfall 365 days, the raw SQL alone (pgbench)",
}
SANITY_POINTS = 20
OTHER_CORES_WARNING = 0.2  # "other" CPU during check-ins beyond this: not a clean measurement
OTHERS_SEEN: list[dict] = []  # other benchmarks / tests found running at a phase's start


def note_others(where: str) -> None:
    """Remember any other benchmark, server or test run found running now."""
    found = scale_report.competitors()
    if found:
        OTHERS_SEEN.append({"phase": where, "at": time.time(), "processes": found})


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--venues", type=int, default=1_000_000, help="world venues (1,000,000)")
    add("--users", type=int, default=100_000, help="world users (100,000)")
    add("--checkins", type=int, default=10_000_000, help="check-ins of history (10,000,000)")
    add("--busy-checkins", type=int, default=200_000, help="of which at the busy venue")
    add("--contacts", type=int, default=50, help="mutual contacts per user (even)")
    add("--events", type=int, default=200_000, help="events (200,000)")
    add("--organisers", type=int, default=8, help="users organising them")
    add("--recent-per-user", type=int, default=3, help="recent check-ins per user")
    add("--seed", type=int, default=11, help="seed of the history")
    add("--curve", default="100000,10000000", help="venues of the scale curve's other DBs")
    add("--no-curve", action="store_true", help="skip the scale curve")
    add("--seed-only", action="store_true", help="seed the databases, measure nothing")
    add("--workers", type=int, default=2, help="gunicorn workers (gevent)")
    add("--rounds", type=int, default=3, help="interleaved rounds of every phase")
    add("--seconds", type=int, default=10, help="measured seconds per read phase and round")
    add("--warmup", type=int, default=2, help="warm-up seconds per phase and round")
    add("--concurrency", type=int, default=8, help="clients of the concurrent phases")
    add("--points", type=int, default=2000, help="distinct query positions (and viewers)")
    add("--radius", type=float, default=1000, help="radius_m of the nearby queries")
    add("--limit", type=int, default=20, help="limit of nearby venues")
    add("--checkin-seconds", type=int, default=15, help="measured seconds per check-in round")
    add("--checkin-warmup", type=int, default=3, help="warm-up seconds per check-in round")
    add("--checkin-max-rate", type=int, default=800, help="check-ins/s the items cover")
    add("--meet-share", type=float, default=0.1, help="check-ins meeting a contact")
    add("--footfall-seconds", type=int, default=10, help="seconds per footfall rollup phase")
    add("--footfall-raw-seconds", type=int, default=20, help="seconds per footfall raw phase")
    add("--footfall-sql-seconds", type=int, default=6, help="seconds per footfall SQL phase")
    add("--output", type=Path, default=RESULTS / "scale.json")
    return parser.parse_args()


def size_label(venues: int) -> str:
    """100000 -> 100k, 10000000 -> 10m."""
    for unit, size in (("m", 1_000_000), ("k", 1_000)):
        if venues >= size and venues % size == 0:
            return f"{venues // size}{unit}"
    return str(venues)


# --- seeding ----------------------------------------------------------------------------


def seed_all(url: str, args, centres: list) -> dict:
    """The world, then the scale curve's databases; each step's record."""
    world = scale_seeding.seed_world(url, args, centres)
    curve = {}
    if not args.no_curve:
        for venues in sorted(int(v) for v in args.curve.split(",")):
            label = size_label(venues)
            print(f"curve database {label}: {venues:,} venues (seeded once) ...", flush=True)
            curve[label] = scale_seeding.seed_curve(
                scale_seeding.curve_url(url, label), venues, centres
            )
            print(f"  {curve[label]}", flush=True)
    return {"world": world, "curve": curve}


def world_state(conn: psycopg.Connection) -> dict:
    """Row counts and sizes of the world as measured."""
    row = conn.execute(
        "SELECT (SELECT count(*) FROM venues), (SELECT count(*) FROM users),"
        " (SELECT count(*) FROM relationships WHERE mutual), (SELECT count(*) FROM checkins),"
        " (SELECT count(*) FROM events), (SELECT count(*) FROM venue_visits),"
        " (SELECT count(*) FROM user_badges), (SELECT count(*) FROM venue_mayors),"
        " pg_database_size(current_database())"
    ).fetchone()
    keys = (
        "venues",
        "users",
        "mutual_relationship_rows",
        "checkins",
        "events",
        "venue_visits",
        "user_badges",
        "venue_mayors",
        "database_bytes",
    )
    return dict(zip(keys, row, strict=True))


def busy_state(conn: psycopg.Connection, venue_id: int) -> dict:
    """The busy venue's check-ins, people and rollup rows."""
    row = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE eligible), count(DISTINCT user_id),"
        " (SELECT count(*) FROM venue_visits WHERE venue_id = %(v)s),"
        " (SELECT count(*) FROM (SELECT user_id FROM checkins WHERE venue_id = %(v)s"
        "  GROUP BY 1 HAVING count(*) = 1) once)"
        " FROM checkins WHERE venue_id = %(v)s",
        {"v": venue_id},
    ).fetchone()
    keys = ("checkins", "eligible", "people", "rollup_rows", "one_time_visitors")
    return dict(zip(keys, row, strict=True))


# --- work items -------------------------------------------------------------------------


def pick_viewers(conn: psycopg.Connection, count: int) -> list[int]:
    """A fixed-seed random world user for each query position."""
    everyone = [
        row[0]
        for row in conn.execute(
            "SELECT id FROM users WHERE handle LIKE %s ORDER BY id", (scale_checkins.WORLD_USERS,)
        )
    ]
    rng = random.Random(11)
    return [rng.choice(everyone) for _ in range(count)]


def read_paths(name: str, lat: float, lon: float, args) -> str:
    """The GET of read phase ``name`` at one position."""
    where = f"lat={lat:.6f}&lon={lon:.6f}&radius_m={args.radius:g}"
    if name == "venues":
        return f"/api/v1/venues/nearby?{where}&limit={args.limit}"
    if name == "contacts":
        return f"/api/v1/nearby/contacts?{where}"
    return f"/api/v1/events/nearby?{where}"


def footfall_path(venue_id: int, days: int, tz: str | None) -> str:
    """Stats of the last ``days`` local days (the venue's today included)."""
    today = datetime.now(ZoneInfo(seeding.TIMEZONE)).date()
    query = f"from={(today - timedelta(days=days - 1)).isoformat()}&to={today.isoformat()}"
    return f"/api/v1/venues/{venue_id}/stats?{query}" + (f"&tz={tz}" if tz else "")


def checkin_slices(jobs: list, args) -> list[tuple[list, list]]:
    """Per round, the warm-up's and the measured part's items (disjoint users)."""
    warm = args.checkin_warmup * args.checkin_max_rate
    measured = args.checkin_seconds * args.checkin_max_rate
    per_round = max(1, len(jobs) // args.rounds)
    if per_round < warm + measured:
        print(f"WARNING: {len(jobs):,} users for the check-ins: fewer than asked", flush=True)
        warm = per_round * warm // (warm + measured)
    slices = []
    for index in range(args.rounds):
        chunk = jobs[index * per_round : (index + 1) * per_round]
        slices.append((chunk[:warm], chunk[warm : warm + measured]))
    return slices


def footfall_sql(url: str, venue_id: int) -> dict[str, str]:
    """Each footfall phase's figures statements as the service sends them for the HTTP
    phase (rollup: the venue's zone; raw: UTC), their parameters inlined (pgbench runs
    them as unnamed statements: a custom plan every time, as the service does)."""
    from service.database import db
    from service.footfall import from_raw, from_rollup
    from service.footfall.grid import make_range

    app = footfall.bench_app(url)
    today = datetime.now(ZoneInfo(seeding.TIMEZONE)).date()
    found = {}
    for name, (days, tz) in FOOTFALL.items():
        reader = from_raw if tz else from_rollup
        span = make_range(today - timedelta(days=days - 1), today, tz or seeding.TIMEZONE, "day")
        sent = footfall.capture_all(
            app, lambda reader=reader, span=span: reader.figures(db.session, venue_id, span)
        )
        with psycopg.connect(seeding.libpq_conninfo(url)) as conn:
            cursor = psycopg.ClientCursor(conn)
            found[f"{name}_sql"] = [cursor.mogrify(sql, params) for sql, params in sent]
    return found


# --- measuring --------------------------------------------------------------------------


def quiesce(conninfo: str, timeout_s: float = 30.0) -> float:
    """Wait until no query of a finished phase still runs (wrk stops waiting, the server
    does not stop working); the seconds waited."""
    started = time.monotonic()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while time.monotonic() - started < timeout_s:
            active = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state = 'active' AND pid <> pg_backend_pid()"
            ).fetchone()[0]
            if not active:
                break
            time.sleep(0.1)
    return round(time.monotonic() - started, 2)


def measure_read(name: str, concurrency: int, address: str, files: dict, args) -> dict:
    """A warm-up, then one measured run of read phase ``name``."""
    note_others(f"{name}_c{concurrency}")
    seed = random.randrange(1, 10**6)
    if name == "venues_sql":
        scale_pgbench.run(files["conninfo"], files["sql"], concurrency, args.warmup)
        return scale_pgbench.run(files["conninfo"], files["sql"], concurrency, args.seconds)
    scale_wrk.run_get(address, files[name], concurrency, args.warmup, seed)
    return scale_wrk.run_get(address, files[name], concurrency, args.seconds, seed + 1)


def run_reads(address: str, files: dict, args) -> dict[str, list]:
    """Every read phase at c=1 and c=N, ``--rounds`` times, round robin."""
    found: dict[str, list] = {}
    for round_no in range(1, args.rounds + 1):
        for concurrency in (1, args.concurrency):
            for name in READS:
                result = measure_read(name, concurrency, address, files, args)
                result["quiesce_s"] = quiesce(files["conninfo"])
                found.setdefault(f"{name}_c{concurrency}", []).append(result)
                print(
                    f"  round {round_no} {name} c={concurrency}: median {result['median_ms']} ms,"
                    f" p99 {result['p99_ms']} ms, {result['throughput_rps']}/s"
                    + (f", errors {result['errors']}" if result["errors"] else ""),
                    flush=True,
                )
    return found


def measure_footfall(name: str, address: str, files: dict, args) -> dict:
    """A warm-up, then one measured run of footfall phase ``name`` (c=1)."""
    note_others(name)
    if name in FOOTFALL_SQL:
        scale_pgbench.run(files["conninfo"], files[name], 1, 1)
        return scale_pgbench.run(files["conninfo"], files[name], 1, args.footfall_sql_seconds)
    seconds = args.footfall_raw_seconds if name.endswith("_raw") else args.footfall_seconds
    scale_wrk.run_get(address, files[name], 1, args.warmup)
    quiesce(files["conninfo"])
    return scale_wrk.run_get(address, files[name], 1, seconds)


def run_footfall(address: str, files: dict, args) -> dict[str, list]:
    """The footfall phases at c=1 (HTTP, and each statement alone), ``--rounds`` times,
    round robin."""
    found: dict[str, list] = {}
    for round_no in range(1, args.rounds + 1):
        for name in (*FOOTFALL, *FOOTFALL_SQL):
            result = measure_footfall(name, address, files, args)
            waited = quiesce(files["conninfo"])
            if waited > 1:
                print(f"  (waited {waited:.1f} s for {name}'s abandoned queries)", flush=True)
            result["quiesce_s"] = waited
            found.setdefault(name, []).append(result)
            print(
                f"  round {round_no} {name}: median {result['median_ms']} ms,"
                f" p99 {result['p99_ms']} ms, {result['requests']} requests"
                + (f", errors {result['errors']}" if result["errors"] else ""),
                flush=True,
            )
    return found


def run_checkins(address: str, conninfo: str, slices: list, tokens: dict, tmp: Path, args):
    """Each round: a warm-up, then the measured check-ins with the CPU monitor on."""
    rounds = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for index, (warm, measured) in enumerate(slices, 1):
            files = {}
            for part, jobs in (("warm", warm), ("measured", measured)):
                rows = [(tokens[user], body) for user, body, _ in jobs]
                files[part] = scale_wrk.write_items(tmp / f"checkins_{index}_{part}.txt", rows)
            path = "/api/v1/checkins"
            scale_wrk.run_post(address, files["warm"], args.concurrency, args.checkin_warmup, path)
            time.sleep(0.5)  # the last warm-up answers commit
            note_others(f"checkins round {index}")
            since = scale_checkins.marker(conn)
            with PhaseMonitor(conninfo, address, client_marker="wrk") as monitor:
                result = scale_wrk.run_post(
                    address, files["measured"], args.concurrency, args.checkin_seconds, path
                )
            time.sleep(0.5)
            result["machine"] = monitor.report(
                result["window"], result["requests"], result["seconds"]
            )
            result["database"] = scale_checkins.effects(conn, since)
            result["meet_items"] = sum(1 for _, _, kind in measured if kind == "meet")
            rounds.append(result)
            print(
                f"  round {index}: {result['throughput_rps']}/s, median {result['median_ms']} ms,"
                f" p99 {result['p99_ms']} ms, statuses {result['statuses']}, eligible"
                f" {result['eligible']}, ran out {result['ran_out']}; database"
                f" {result['database']}",
                flush=True,
            )
    return rounds


def run_curve(url: str, curve: dict, files: dict, secret: str, world_user: int, args) -> dict:
    """Nearby venues at c=1 on each database of the curve (the API restarted on each),
    and its SQL alone, ``--rounds`` times, round robin."""
    points = [
        (label, scale_seeding.curve_url(url, label), record["user_id"])
        for label, record in curve.items()
    ]
    points.append((size_label(args.venues), url, world_user))
    points.sort(key=lambda item: _venues_of(item[0]))
    found: dict[str, list] = {}
    tmp = files["dir"]
    for round_no in range(1, args.rounds + 1):
        for label, db_url, user_id in points:
            note_others(f"curve {label}")
            token = apiserver.mint_tokens(db_url, secret, [user_id], TOKEN_MINUTES)[user_id]
            rows = [(token, read_paths("venues", lat, lon, args)) for lat, lon in files["points"]]
            items = scale_wrk.write_items(tmp / f"curve_{label}.txt", rows)
            log = RESULTS / f"scale.curve_{label}.gunicorn.log"
            with apiserver.running_api(
                db_url, workers=args.workers, threads=4, log=log, jwt_secret=secret, env=API_ENV
            ) as address:
                scale_wrk.run_get(address, items, 2 * args.workers, args.warmup + 3)
                result = scale_wrk.run_get(address, items, 1, args.seconds)
            found.setdefault(f"curve_{label}", []).append(result)
            conninfo = seeding.libpq_conninfo(db_url)
            scale_pgbench.run(conninfo, files["sql"], 1, args.warmup)
            sql = scale_pgbench.run(conninfo, files["sql"], 1, args.seconds)
            found.setdefault(f"curve_sql_{label}", []).append(sql)
            print(
                f"  round {round_no} {label}: endpoint median {result['median_ms']} ms,"
                f" SQL median {sql['median_ms']} ms",
                flush=True,
            )
    return found


def _venues_of(label: str) -> float:
    number, unit = label[:-1], label[-1]
    return float(number) * {"k": 1e3, "m": 1e6}.get(unit, 1) if unit in "km" else float(label)


def sanity(address: str, items: dict[str, list], footfall_items: dict) -> dict:
    """Every endpoint answers 200 on the first points; how much the reads return."""
    found = {}
    for name, rows in items.items():
        counts = []
        for token, path in rows[:SANITY_POINTS]:
            status, body = apiserver.request(address, "GET", path, token=token)
            if status != 200:
                raise RuntimeError(f"GET {path} answered {status}: {body}")
            counts.append(len(body["items"]))
        found[name] = {"points": len(counts), "mean_items": round(sum(counts) / len(counts), 2)}
    for name, (token, path) in footfall_items.items():
        status, body = apiserver.request(address, "GET", path, token=token)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body}")
        found[name] = {"source": body["source"], "total_checkins": body["total_checkins"]}
    return found


def rollup_equals_raw(url: str, venue_id: int) -> dict:
    """In process: the rollup's figures equal raw check-ins' for both spans (30, 365 d)."""
    today = datetime.now(ZoneInfo(seeding.TIMEZONE)).date()
    spans = footfall.make_spans(today, seeding.TIMEZONE)
    spans = {key: spans[key] for key in ("a", "b")}
    verdicts, _ = footfall.check_equal(footfall.bench_app(url), venue_id, spans)
    return {spans[key]["label"]: verdict["equal"] for key, verdict in verdicts.items()}


# --- main -------------------------------------------------------------------------------


def main() -> None:
    """Seed, serve, measure, report."""
    args = parse_args()
    started = time.perf_counter()
    load_before = os.getloadavg()
    others = scale_report.competitors()
    if others:
        print("WARNING: other benchmarks, servers or tests are running:", flush=True)
        print("\n".join(f"  {line}" for line in others), flush=True)
    scale_wrk.require_wrk()
    scale_pgbench.require_pgbench()
    url = os.environ.get("BENCH_SCALE_DATABASE_URL", DEFAULT_URL)
    conninfo = seeding.libpq_conninfo(url)
    centres, origin = seeding.load_centres()
    print(f"cluster centres: {len(centres):,} ({origin})", flush=True)
    seeded = seed_all(url, args, centres)
    if args.seed_only:
        print(f"seeding: {json.dumps(_seed_times(seeded))}")
        return
    facts = seeded["world"]["facts"]
    busy = facts["busy_venue_id"]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        print("re-making the recent check-ins relative to now ...", flush=True)
        refresh = scale_recent.refresh(conn)
        print(f"  {refresh}", flush=True)
        state = {**world_state(conn), **scale_recent.facts(conn), "busy": busy_state(conn, busy)}
        print(f"world: {state}", flush=True)
        rng = random.Random(time.time_ns())
        users = scale_checkins.fresh_users(conn, facts["history_max_id"], rng)
        viewers = pick_viewers(conn, args.points)
        slices = checkin_slices(
            scale_checkins.deal(
                conn,
                users[: args.rounds * (args.checkin_warmup + args.checkin_seconds)
                      * args.checkin_max_rate],
                args.meet_share,
                rng,
            ),
            args,
        )  # fmt: skip
    print("checking rollup == raw check-ins in process ...", flush=True)
    rollup_check = rollup_equals_raw(url, busy)
    print(f"  {rollup_check}", flush=True)

    secret = secrets.token_urlsafe(48)
    needed = {*viewers, facts["owner_id"]}
    needed |= {user for warm, measured in slices for user, _, _ in warm + measured}
    minted = time.perf_counter()
    tokens = apiserver.mint_tokens(url, secret, sorted(needed), TOKEN_MINUTES)
    print(f"minted {len(tokens):,} tokens in {time.perf_counter() - minted:.1f} s", flush=True)
    points = seeding.query_points(centres, args.points)
    RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="irl-scale-") as tmp_name:
        tmp = Path(tmp_name)
        items = {
            name: [
                (tokens[viewer], read_paths(name, lat, lon, args))
                for (lat, lon), viewer in zip(points, viewers, strict=True)
            ]
            for name in ("venues", "contacts", "events")
        }
        owner_token = tokens[facts["owner_id"]]
        ff_items = {
            name: (owner_token, footfall_path(busy, days, tz))
            for name, (days, tz) in FOOTFALL.items()
        }
        files = {
            name: scale_wrk.write_items(tmp / f"{name}.txt", rows) for name, rows in items.items()
        }
        for name, row in ff_items.items():
            files[name] = scale_wrk.write_items(tmp / f"{name}.txt", [row])
        files["sql"] = tmp / "nearby.sql"
        files["sql"].write_text(scale_pgbench.script(points, args.radius, args.limit))
        for name, statements in footfall_sql(url, busy).items():
            files[name] = tmp / f"{name}.sql"  # one pgbench transaction: all of them
            files[name].write_text("".join(sql.replace("\n", " ") + ";\n" for sql in statements))
        files.update(conninfo=conninfo, dir=tmp, points=points)
        log = RESULTS / "scale.gunicorn.log"
        with apiserver.running_api(
            url, workers=args.workers, threads=4, log=log, jwt_secret=secret, env=API_ENV
        ) as address:
            checked = sanity(address, items, ff_items)
            print(f"sanity: {checked}", flush=True)
            print("warming up every endpoint ...", flush=True)
            for name in ("venues", "contacts", "events", "ff30", "ff365"):
                scale_wrk.run_get(address, files[name], args.concurrency, args.warmup + 3)
            print(f"reads: {args.rounds} rounds ...", flush=True)
            measured = run_reads(address, files, args)
            print(f"footfall: {args.rounds} rounds ...", flush=True)
            measured.update(run_footfall(address, files, args))
            print(f"check-ins: {args.rounds} rounds ...", flush=True)
            checkin_rounds = run_checkins(address, conninfo, slices, tokens, tmp, args)
            measured["checkins"] = checkin_rounds
        if not args.no_curve:
            print(f"scale curve: {args.rounds} rounds ...", flush=True)
            measured.update(run_curve(url, seeded["curve"], files, secret, viewers[0], args))
    report(args, seeded, refresh, state, rollup_check, checked, measured, load_before, others)
    print(f"total run time {time.perf_counter() - started:.0f} s")


def report(args, seeded, refresh, state, rollup_check, checked, measured, load_before, others):
    """Print the table and the goals; write the JSON."""
    conninfo = seeding.libpq_conninfo(os.environ.get("BENCH_SCALE_DATABASE_URL", DEFAULT_URL))
    results = {key: scale_report.median_of_rounds(rounds) for key, rounds in measured.items()}
    rows = []
    for concurrency in (1, args.concurrency):
        rows += [(LABELS[name], concurrency, results[f"{name}_c{concurrency}"]) for name in READS]
    rows.append((LABELS["checkins"], args.concurrency, results["checkins"]))
    rows += [(LABELS[name], 1, results[name]) for name in (*FOOTFALL, *FOOTFALL_SQL)]
    curve_labels = sorted(
        (key[len("curve_") :] for key in results if key.startswith("curve_") and "sql" not in key),
        key=_venues_of,
    )
    for label in curve_labels:
        rows.append(
            (f"scale curve: nearby venues, {label} venues (wrk)", 1, results[f"curve_{label}"])
        )
        sql_label = f"scale curve: its SQL alone, {label} venues (pgbench)"
        rows.append((sql_label, 1, results[f"curve_sql_{label}"]))
    ends = (curve_labels[0], curve_labels[-1]) if curve_labels else None
    verdicts = scale_report.goals(results, ends)
    host = scale_report.machine(conninfo)
    code = scale_report.code()
    load_after = os.getloadavg()
    print(
        f"\nscale (commit {code['commit']}"
        + (", uncommitted service changes" if code["service_changes_uncommitted"] else "")
        + f"): {state['venues']:,} venues, {state['users']:,} users, {state['checkins']:,}"
        f" check-ins ({state['busy']['checkins']:,} at the busy venue), {state['events']:,}"
        f" events; gunicorn {args.workers} gevent workers; {host['cpus']} CPUs,"
        f" {host['ram_gb']} GB RAM; {host['postgres'].split(' on ')[0]}, PostGIS"
        f" {host['postgis']}, shared_buffers {_buffers(host)}; load average"
        f" {load_before[0]:.2f} before,"
        f" {load_after[0]:.2f} after; medians of {args.rounds} interleaved rounds per phase"
        f" ({args.seconds} s reads, {args.footfall_seconds} s footfall ({args.footfall_raw_seconds}"
        f" s raw, {args.footfall_sql_seconds} s SQL),"
        f" {args.checkin_seconds} s check-ins per round)\n"
    )
    scale_report.print_table(rows)
    scale_report.print_goals(verdicts)
    explaining = scale_report.notes(results)
    scale_report.print_notes(explaining)
    scale_report.print_cpu(measured["checkins"])
    for index, r in enumerate(measured["checkins"], 1):
        other = r.get("machine", {}).get("cpu_cores_used", {}).get("other", 0)
        if other > OTHER_CORES_WARNING:
            print(f"WARNING: {other} cores used by other processes in check-in round {index}")
    if OTHERS_SEEN:
        phases = sorted({seen["phase"] for seen in OTHERS_SEEN})
        print(f"WARNING: other benchmarks or tests ran during: {', '.join(phases)}")
    print(f"\nrollup == raw (in process): {rollup_check}; sanity: {checked}")
    print(f"seeding: {json.dumps(_seed_times(seeded))}")
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {key: str(value) for key, value in vars(args).items()},
        "machine": {
            **host,
            "load_average_before": [round(v, 2) for v in load_before],
            "load_average_after": [round(v, 2) for v in load_after],
            "others_running_at_start": others,
            "others_seen_during_phases": OTHERS_SEEN,
        },
        "code": code,
        "world": state,
        "seed": seeded,
        "recent_refresh": refresh,
        "rollup_equals_raw": rollup_check,
        "sanity": checked,
        "results": results,
        "goals": verdicts,
        "notes": dict(explaining),
        "rounds": measured,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"results written to {args.output}")


def _buffers(host: dict) -> str:
    """shared_buffers as PostgreSQL states it (pages of 8 kB) in MB."""
    raw = host["pg_settings"].get("shared_buffers", "")
    return f"{int(raw[:-3]) * 8 // 1024} MB" if raw.endswith("8kB") else raw


def _seed_times(seeded: dict) -> dict:
    """Each seeding step's seconds (``reused`` when it was already there)."""
    found = {}
    for step, record in seeded["world"].items():
        if step == "facts":
            continue
        total = (record.get("timings") or {}).get("total_s")
        found[f"world.{step}"] = total if record.get("seeded_now") else f"reused ({total} s)"
    for label, record in seeded["curve"].items():
        total = record["timings"].get("total_s")
        found[f"curve.{label}"] = total if record["seeded_now"] else f"reused ({total} s)"
    return found


if __name__ == "__main__":
    main()
