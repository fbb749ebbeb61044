"""Citus against single-node PostgreSQL: one smaller world seeded the same way into a
single-node database and a distributed one on the benchmark's own cluster, the same
requests (wrk) and their own SQL (pgbench) against both in alternating rounds, reported
side by side as ratios Citus / single node (README)."""

import argparse
import os
import random
import secrets
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bench.harness import citus, pgbench, replay, wrk
from bench.harness.database import conninfo, quiesce
from bench.harness.replay import service_options
from bench.harness.seed import recent, world
from bench.harness.seed.venues import query_points
from bench.harness.server import bench_app, get, mint_tokens, running_api
from bench.harness.sql import InProcess
from bench.phases import checkins, footfall, reads
from bench.phases.citus_report import FOOTFALL, READS, SIDES, seeding, summarise
from bench.phases.run import RESULTS, TOKEN_MINUTES, Run

SINGLE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/irl_bench_citus_single"
DATABASE = "irl_bench_citus"  # on the coordinator (and, as Citus wants, on every worker)
ROOT = RESULTS / "tmp" / "citus"


def add_options(add) -> None:
    """The phase's options (``argparse``'s ``add_argument``)."""
    add("--citus-venues", type=int, default=100_000, help="citus: the world's venues")
    add("--citus-users", type=int, default=30_000, help="citus: the world's users")
    add("--citus-checkins", type=int, default=1_000_000, help="citus: check-ins of history")
    add("--citus-busy-checkins", type=int, default=50_000, help="citus: at the busy venue")
    add("--citus-events", type=int, default=20_000, help="citus: events")
    add("--citus-seconds", type=int, default=5, help="citus: measured seconds per read row")
    add("--citus-checkin-seconds", type=int, default=10, help="citus: per check-in round")
    add("--citus-checkin-max-rate", type=int, default=250, help="citus: check-ins/s dealt")
    add("--citus-captures", type=int, default=128, help="citus: reads captured for replay")
    add("--citus-replay-checkins", type=int, default=100, help="citus: check-ins captured")
    add("--citus-port", type=int, default=citus.PORT, help="citus: the coordinator's port")
    add("--citus-shards", type=int, default=citus.SHARDS, help="citus: shards per table")


def world_args(args: argparse.Namespace) -> argparse.Namespace:
    """The options of the smaller world, and of the phases run on it."""
    return argparse.Namespace(**{
        **vars(args),
        "venues": args.citus_venues, "users": args.citus_users, "checkins": args.citus_checkins,
        "busy_checkins": args.citus_busy_checkins, "events": args.citus_events,
        "phases": {"checkins"}, "seconds": args.citus_seconds,
        "footfall_seconds": args.citus_seconds, "footfall_sql_seconds": args.citus_seconds,
        "checkin_seconds": args.citus_checkin_seconds,
        "checkin_max_rate": args.citus_checkin_max_rate,
        "replay_checkins": args.citus_replay_checkins,
    })  # fmt: skip


def database(args) -> str:
    """The distributed database: one per shard count, so both stay seeded."""
    shards = args.citus_shards
    return DATABASE if shards == citus.SHARDS else f"{DATABASE}_{shards}_shards"


def single_url() -> str:
    """The single-node side's database (``BENCH_CITUS_SINGLE_URL``)."""
    return os.environ.get("BENCH_CITUS_SINGLE_URL", SINGLE_URL)


@dataclass
class Side:
    """One engine's database, what was dealt and captured for it, and its API."""

    name: str
    run: Run
    dealt: checkins.Dealt
    checkin_replay: replay.Replay | None  # None: no captured check-in replays
    read_scripts: dict[str, list]  # "contacts_sql_c1": pgbench scripts per client
    figures: dict  # what preparing found: the world, the captures
    failing: set[str]  # rows not measured: their request or statements fail here
    address: str = ""
    measured: dict[str, list] = field(default_factory=dict)


def seed(args, centres: list, cluster) -> dict:
    """Seed the smaller world into both databases (each step once); their records."""
    small = world_args(args)
    found = {}
    print(f"citus: the world on single-node PostgreSQL ({single_url()}) ...", flush=True)
    found["single"] = world.seed_world(single_url(), small, centres)
    url = _distributed(cluster, small)
    print(f"citus: the same world on the cluster ({url}) ...", flush=True)
    found["citus"] = world.seed_world(url, small, centres)
    return found


def _distributed(cluster, small) -> str:
    """The cluster's database: made anew on every node when its venues differ from the
    options (the world's other steps redo themselves), else kept."""
    url = citus.distributed_database(cluster, database(small), fresh=False)
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        done = world.marks(conn).get("venues", {}).get("options")
        shards = citus.shard_count(conn)
    if done != world.world_options(small)["venues"] or shards not in (None, small.citus_shards):
        print("citus: a new distributed database (other venues or shards) ...", flush=True)
        url = citus.distributed_database(cluster, database(small), fresh=True)
    return url


def prepare(name: str, url: str, small, centres: list, facts: dict, secret: str,
            tmp: Path) -> Side:  # fmt: skip
    """Refresh the recent check-ins, deal, mint tokens, write items and capture SQL."""
    print(f"citus: preparing the {name} side ...", flush=True)
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        refreshed = recent.refresh(conn)
        state = world.state(conn, facts["busy_venue_id"])
        everyone, rng = checkins.world_users(conn), random.Random(11)
        viewers = [rng.choice(everyone) for _ in range(small.points)]  # as the main world's
        dealt = checkins.deal_all(conn, facts["history_max_id"], small)
    app = bench_app(url, secret, TOKEN_MINUTES)
    folder = tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    run = Run(small, url, conninfo(url), facts, app, secret, service_options(app), folder,
              query_points(centres, small.points), viewers)  # fmt: skip
    users = {*viewers, facts["owner_id"]}
    users |= {user for warm, items in dealt.rounds for user, _, _ in warm + items}
    run.tokens = mint_tokens(app, sorted(users))
    reads.prepare(run)
    figures, failing = {"recent_refresh": refreshed, "world": state}, set()
    for row in FOOTFALL:  # the owner's reader's statements, captured in process
        try:
            footfall.prepare(run, (row,))
        except SQLAlchemyError as exc:
            failing.add(f"{row}_sql")
            figures[f"{row}_sql"] = {"error": str(exc.orig or exc)[:500]}
    try:
        prepared = checkins.prepare(run, dealt.replay)
        figures["checkins_sql"] = prepared.figures
    except RuntimeError as exc:  # not one captured check-in replays: none answered 201
        prepared, figures["checkins_sql"] = None, {"error": str(exc)[:500]}
        failing.add("checkins")
    scripts, figures["contacts_sql"] = _read_scripts(run, "contacts", small.citus_captures)
    return Side(name, run, dealt, prepared, scripts, figures, failing)


def _read_scripts(run: Run, name: str, count: int) -> tuple[dict[str, list], dict]:
    """Capture ``count`` requests of read ``name`` (each as its viewer) in process and write
    their statements as pgbench scripts, one transaction a request, for c=1 and c=N."""
    process, sent = InProcess(run.app), []
    for (lat, lon), viewer in list(zip(run.points, run.viewers, strict=True))[:count]:
        sent.append(process.send(viewer, "GET", reads.path(name, lat, lon, run.args), None, True))
    process.close()
    transactions = [replay.transaction(s) for s in sent if s.status == 200]
    kept, figures = replay.check(run.conninfo, run.options, [t for t in transactions if t])
    statements = [len(t) for t in kept]
    figures.update(captured=len(sent), statuses=sorted({s.status for s in sent}))
    figures["sql_ms_by_site"] = replay.by_site([s for s in sent if s.status == 200])
    figures["statements_per_request"] = round(sum(statements) / max(1, len(statements)), 2)
    if not kept:
        return {}, figures
    folder, mode = run.tmp / f"{name}_sql", run.args.replay_mode
    scripts = {
        f"{name}_sql_{tag}": replay.write_scripts(kept, c, folder / tag, mode)
        for c, tag in ((1, "c1"), (run.args.concurrency, "cn"))
    }
    return scripts, figures


def sanity(side: Side) -> dict:
    """Each read as its first viewers, and the owner's stats: items, or the error."""
    run, found = side.run, {}
    for name in READS:
        try:
            counts = [len(get(side.address, where, token)["items"])
                      for token, where in reads.items(run, name)[:reads.SANITY_POINTS]]  # fmt: skip
            found[name] = round(sum(counts) / len(counts), 2)
        except RuntimeError as exc:
            found[name] = f"error: {str(exc)[:300]}"
    for name in FOOTFALL:
        days, tz = footfall.FOOTFALL[name]
        try:
            body = get(side.address, footfall.stats_path(run.busy, days, tz),
                       run.tokens[run.facts["owner_id"]])  # fmt: skip
            found[name] = body["total_checkins"]
        except RuntimeError as exc:
            found[name] = f"error: {str(exc)[:300]}"
    return found


def _measure_round(side: Side, round_no: int) -> None:
    """One round of every row on one side."""
    run, args, address, failing = side.run, side.run.args, side.address, side.failing
    results: dict[str, dict] = {}
    for c, tag in ((1, "c1"), (args.concurrency, "cn")):  # cn: at --concurrency
        for name in READS:
            if name not in failing:
                seed_ = random.randrange(1, 10**6)
                results[f"{name}_{tag}"] = wrk.run_get(
                    address, run.files[name], c, args.seconds, seed_, args.warmup
                )
                quiesce(run.conninfo)
        script = (run.conninfo, run.files["venues_sql"], c, args.seconds, run.options)
        results[f"venues_sql_{tag}"] = pgbench.run(*script, args.warmup)
        key = f"contacts_sql_{tag}"
        if key in side.read_scripts:
            mode, scripts = args.replay_mode, side.read_scripts[key]
            pgbench.run_parallel(run.conninfo, scripts, 1, args.warmup, mode=mode,
                                 options=run.options)  # fmt: skip
            results[key] = pgbench.run_parallel(run.conninfo, scripts, 1, args.seconds,
                                                mode=mode, options=run.options)  # fmt: skip
        quiesce(run.conninfo)
    for name in FOOTFALL:
        if name not in failing:
            wrk.run_get(address, run.files[name], 1, args.warmup)
            results[name] = wrk.run_get(address, run.files[name], 1, args.seconds)
        if f"{name}_sql" in run.files:
            results[f"{name}_sql"] = pgbench.run(run.conninfo, run.files[f"{name}_sql"], 1,
                                                 args.seconds, run.options, 1)  # fmt: skip
        quiesce(run.conninfo)
    for key, result in results.items():
        side.measured.setdefault(key, []).append(result)
        print(f"  round {round_no} {side.name} {key}: {reads.line(result)}", flush=True)
    index = round_no - 1
    if index < len(side.dealt.rounds) and side.checkin_replay and "checkins" not in failing:
        done, replayed = checkins.measure(run, address, side.dealt.rounds[index : index + 1],
                                          side.checkin_replay, first=round_no)  # fmt: skip
        side.measured.setdefault("checkins", []).extend(done)
        side.measured.setdefault("checkins_sql", []).extend(replayed)


def measure(args, centres: list, cluster, seeded: dict) -> dict:
    """Prepare both sides, serve both, measure them round by round (the order alternating);
    what was found, and every round."""
    small, secret = world_args(args), secrets.token_urlsafe(48)
    urls = {"single": single_url(), "citus": cluster.url(database(args))}
    facts = {name: seeded[name]["facts"] for name in SIDES}
    differ = {k for k in facts["single"].keys() | facts["citus"].keys()
              if facts["single"].get(k) != facts["citus"].get(k)}  # fmt: skip
    if differ:  # the busy venue's history is drawn relative to the time it was seeded
        print(f"NOTE: the worlds, seeded at different times, differ in {sorted(differ)}:"
              f" {facts}", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="irl-citus-") as tmp, ExitStack() as stack:
        sides = {name: prepare(name, urls[name], small, centres, facts[name], secret,
                               Path(tmp)) for name in SIDES}  # fmt: skip
        for name, side in sides.items():
            log = RESULTS / f"scale.citus_{name}.gunicorn.log"
            side.address = stack.enter_context(
                running_api(urls[name], workers=args.workers, log=log, jwt_secret=secret)
            )
        checked = {name: sanity(side) for name, side in sides.items()}
        print(f"citus: sanity {checked}", flush=True)
        for name, found in checked.items():
            sides[name].failing |= {k for k, v in found.items() if str(v).startswith("error")}
        _probe_checkin(sides)
        for side in sides.values():
            for name in READS + FOOTFALL:
                if name not in side.failing:
                    wrk.run_get(side.address, side.run.files[name], args.concurrency,
                                args.warmup + 3)  # fmt: skip
        print(f"citus: {args.rounds} rounds, the sides alternating ...", flush=True)
        for round_no in range(1, args.rounds + 1):
            order = SIDES if round_no % 2 else SIDES[::-1]
            for name in order:
                _measure_round(sides[name], round_no)
        return {
            "sanity": checked,
            "failing": {name: sorted(side.failing) for name, side in sides.items()},
            "prepared": {name: side.figures for name, side in sides.items()},
            "rounds": {name: side.measured for name, side in sides.items()},
        }


def _probe_checkin(sides: dict[str, Side]) -> None:
    """Mark check-ins failing on a side whose first warm-up check-in is refused."""
    for name, side in sides.items():
        warm = side.dealt.rounds[0][0] if side.dealt.rounds else []
        if not warm:
            continue
        user, body, _ = warm[0]
        process = InProcess(side.run.app)
        sent = process.send(user, "POST", checkins.PATH, body)
        process.close()
        if sent.status != 201:
            side.failing.add("checkins")
            print(f"citus: a check-in on {name} answered {sent.status}: {sent.answer}")
        side.dealt.rounds[0] = (warm[1:], side.dealt.rounds[0][1])


def run(args, centres: list) -> dict:
    """Start the cluster, seed both sides, measure unless ``--seed-only``; the report."""
    server = make_url(single_url()).set(database="postgres").render_as_string(False)
    copied = citus.settings_of(conninfo(server))
    started = time.perf_counter()
    with citus.running(ROOT, copied, args.citus_port, args.citus_shards) as cluster:
        print(
            f"citus: cluster {cluster.nodes_text()} up in"
            f" {time.perf_counter() - started:.1f} s ({args.citus_shards} shards)",
            flush=True,
        )
        seeded = seed(args, centres, cluster)
        nodes = citus.node_facts(cluster, database(args))
        nodes["settings"] = {**copied, "shared_buffers": citus.SHARED_BUFFERS}
        if args.seed_only:
            return {**seeding(seeded), "cluster": nodes}
        found = measure(args, centres, cluster, seeded)
    return summarise(found, args, world_args(args), seeded, nodes)
