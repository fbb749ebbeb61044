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
  PostgreSQL and wrk (``checkin_monitor``) and what the database says they did; and,
  after each round, the SQL that ``--replay-checkins`` check-ins of the same deal sent
  (captured in process at the cursor before the rounds) replayed by pgbench at the same
  concurrency for the same seconds (``checkin_replay``: how it works and its caveats);
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
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import apiserver
import checkin_replay
import psycopg
import scale_checkins
import scale_pgbench
import scale_phases as phases
import scale_recent
import scale_report
import scale_seeding
import scale_summary
import scale_wrk
import seeding
from scale_phases import API_ENV, RESULTS, TOKEN_MINUTES
from scale_report import FOOTFALL

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/irl_bench_scale"


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
    add("--replay-checkins", type=int, default=400, help="check-ins captured for the replay")
    add(
        "--replay-mode",
        choices=("simple", "prepared"),
        default="simple",
        help="pgbench protocol of the replay: simple plans every statement every time,"
        " prepared once per connection (the literal statements repeat)",
    )
    add("--footfall-seconds", type=int, default=10, help="seconds per footfall rollup phase")
    add("--footfall-raw-seconds", type=int, default=20, help="seconds per footfall raw phase")
    add("--footfall-sql-seconds", type=int, default=6, help="seconds per footfall SQL phase")
    add("--output", type=Path, default=RESULTS / "scale.json")
    return parser.parse_args()


# --- seeding ----------------------------------------------------------------------------


def seed_all(url: str, args, centres: list) -> dict:
    """The world, then the scale curve's databases; each step's record."""
    world = scale_seeding.seed_world(url, args, centres)
    curve = {}
    if not args.no_curve:
        for venues in sorted(int(v) for v in args.curve.split(",")):
            label = phases.size_label(venues)
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
    import footfall  # imports the service: not needed by --help or --seed-only

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


def rollup_equals_raw(url: str, venue_id: int) -> dict:
    """In process: the rollup's figures equal raw check-ins' for both spans (30, 365 d)."""
    import footfall

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
        print(f"seeding: {json.dumps(scale_summary.seed_times(seeded))}")
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
        wanted = args.rounds * (args.checkin_warmup + args.checkin_seconds) * args.checkin_max_rate
        dealt = scale_checkins.deal(
            conn, users[: wanted + args.replay_checkins], args.meet_share, rng
        )  # shuffled: the replay's share is a sample of the same deal, its users apart
        replay_jobs = [(user, body) for user, body, _ in dealt[: args.replay_checkins]]
        slices = checkin_slices(dealt[args.replay_checkins :], args)
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
                (tokens[viewer], phases.read_paths(name, lat, lon, args))
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
        app = checkin_replay.bench_app(url, secret, API_ENV)
        nearby_sql = scale_pgbench.nearby_statement(app, viewers[0], items["venues"][0][1])
        files["sql"].write_text(scale_pgbench.script(points, args.radius, args.limit, nearby_sql))
        files["options"] = checkin_replay.service_options(app)  # PGOPTIONS of every pgbench
        for name, statements in footfall_sql(url, busy).items():
            files[name] = tmp / f"{name}.sql"  # one pgbench transaction: all of them
            files[name].write_text("".join(sql.replace("\n", " ") + ";\n" for sql in statements))
        files.update(conninfo=conninfo, dir=tmp, points=points)
        print(f"capturing {len(replay_jobs)} check-ins' SQL in process ...", flush=True)
        replay = checkin_replay.prepare(
            url,
            secret,
            API_ENV,
            replay_jobs,
            tmp / "checkins_sql",
            args.concurrency,
            args.replay_mode,
        )
        print(f"  {replay['figures']}", flush=True)
        log = RESULTS / "scale.gunicorn.log"
        with apiserver.running_api(
            url, workers=args.workers, threads=4, log=log, jwt_secret=secret, env=API_ENV
        ) as address:
            checked = phases.sanity(address, items, ff_items)
            print(f"sanity: {checked}", flush=True)
            print("warming up every endpoint ...", flush=True)
            for name in ("venues", "contacts", "events", "ff30", "ff365"):
                scale_wrk.run_get(address, files[name], args.concurrency, args.warmup + 3)
            print(f"reads: {args.rounds} rounds ...", flush=True)
            measured = phases.run_reads(address, files, args)
            print(f"footfall: {args.rounds} rounds ...", flush=True)
            measured.update(phases.run_footfall(address, files, args))
            print(f"check-ins and their SQL replayed: {args.rounds} rounds ...", flush=True)
            measured["checkins"], measured["checkins_sql"] = phases.run_checkins(
                address, conninfo, slices, tokens, tmp, replay, args
            )
        if not args.no_curve:
            print(f"scale curve: {args.rounds} rounds ...", flush=True)
            measured.update(phases.run_curve(url, seeded["curve"], files, secret, viewers[0], args))
    context = {"seed": seeded, "recent_refresh": refresh, "world": state}
    context.update(rollup_equals_raw=rollup_check, sanity=checked, replay=replay["figures"])
    scale_summary.report(args, context, measured, load_before, others, DEFAULT_URL)
    print(f"total run time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
