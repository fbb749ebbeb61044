"""Performance at scale: the whole product on one seeded world, measured side by side.

The world (``BENCH_SCALE_DATABASE_URL``, default ``.../irl_bench_scale``) is seeded once
(``harness.seed.world``) and reused while the options match. Against gunicorn started as
``make run`` starts it, with load from wrk and the service's own statements from pgbench,
it runs the phases asked (``--only``; without it the first four and ``citus``, as
``make bench``):
``reads``, ``footfall``, ``checkins``, ``curve``, ``streams``, ``geometry``, ``plans``,
``citus`` (a smaller world on single-node PostgreSQL and on a Citus cluster, side by side;
``bench/README.md``), each ``--rounds`` interleaved rounds after a warm-up;
then prints one table, the goals with PASS / FAIL, the machine, the commit and the load
average, and writes ``bench/results/scale.json`` (gunicorn logs next to it).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: the root

import argparse
import json
import os
import random
import secrets
import tempfile
import time

import psycopg

from bench import summary
from bench.harness import citus as citus_cluster
from bench.harness import pgbench, server, wrk
from bench.harness.database import conninfo
from bench.harness.replay import service_options
from bench.harness.report import competitors
from bench.harness.seed import recent, world
from bench.harness.seed.venues import load_centres, query_points
from bench.harness.sse import raise_fd_limit
from bench.phases import checkins, citus, curve, footfall, geometry, plans, reads, streams
from bench.phases.run import API_ENV, RESULTS, TOKEN_MINUTES, Run

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/irl_bench_scale"
PHASES = ("reads", "footfall", "checkins", "curve", "streams", "geometry", "plans", "citus")
DEFAULT_PHASES = (*PHASES[:4], "citus")  # citus: where Citus is installed (make citus)
SERVED = ("reads", "footfall", "checkins", "streams")  # the phases that need the API


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--only", action="append", help=f"phases to run, repeatable or a comma list: {PHASES}")
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
        help="pgbench's"
        " protocol for the replay: plan every statement every time, or once per connection",
    )
    add("--footfall-seconds", type=int, default=10, help="seconds per footfall rollup phase")
    add("--footfall-raw-seconds", type=int, default=20, help="seconds per footfall raw phase")
    add("--footfall-sql-seconds", type=int, default=6, help="seconds per footfall SQL phase")
    add("--streams", type=int, default=1000, help="open notification streams (streams)")
    add("--explain-samples", type=int, default=10, help="samples per statement (plans)")
    citus.add_options(add)
    add("--output", type=Path, default=RESULTS / "scale.json")
    args = parser.parse_args()
    chosen = [name.strip() for value in args.only or () for name in value.split(",")]
    unknown = set(chosen) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases {sorted(unknown)}: choose from {PHASES}")
    args.phases = set(chosen or DEFAULT_PHASES) - ({"curve"} if args.no_curve else set())
    if "citus" in args.phases and not citus_cluster.available():
        if "citus" in chosen:
            parser.error("the citus phase needs Citus installed: run `make citus` first")
        print("NOTE: Citus is not installed (make citus): the citus phase is left out")
        args.phases.discard("citus")
    return args


def main() -> None:
    """Seed, serve, measure, report."""
    args = parse_args()
    server.set_environment(API_ENV)  # every rate limit out of the way, for the API and this
    started, load_before, others = time.perf_counter(), os.getloadavg(), competitors()
    if others:
        print("WARNING: other benchmarks, servers or tests are running:", flush=True)
        print("\n".join(f"  {line}" for line in others), flush=True)
    wrk.require_wrk()
    pgbench.require_pgbench()
    url = os.environ.get("BENCH_SCALE_DATABASE_URL", DEFAULT_URL)
    centres, origin = load_centres()
    print(f"cluster centres: {len(centres):,} ({origin})", flush=True)
    context, measured, server_conninfo = {}, {}, conninfo(citus.single_url())
    if args.phases - {"citus"}:  # the phases on the world at its stated scale
        context, measured = world_phases(args, url, centres)
        server_conninfo = conninfo(url)
    if "citus" in args.phases:  # a smaller world of its own, on both engines
        context["citus"] = citus.run(args, centres)
    if args.seed_only:
        print(f"seeding: {json.dumps(summary.seed_times(context))}")
        return
    summary.summarise(args, context, measured, load_before, others, server_conninfo)
    print(f"total run time {time.perf_counter() - started:.0f} s")


def world_phases(args, url: str, centres: list) -> tuple[dict, dict]:
    """Seed the world (and the curve's databases) and run the phases asked on it."""
    seeded = {"world": world.seed_world(url, args, centres), "curve": {}}
    if "curve" in args.phases or (args.seed_only and not args.no_curve):
        seeded["curve"] = curve.seed(url, args, centres)
    if args.seed_only:
        return {"seed": seeded}, {}
    facts = seeded["world"]["facts"]
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        print("re-making the recent check-ins relative to now ...", flush=True)
        refresh = recent.refresh(conn)
        print(f"  {refresh}", flush=True)
        state = world.state(conn, facts["busy_venue_id"])
        print(f"world: {state}", flush=True)
        everyone, rng = checkins.world_users(conn), random.Random(11)
        viewers = [rng.choice(everyone) for _ in range(args.points)]  # one per position
        dealt = checkins.deal_all(conn, facts["history_max_id"], args)
    context = {"seed": seeded, "recent_refresh": refresh, "world": state}
    secret = secrets.token_urlsafe(48)
    app = server.bench_app(url, secret, TOKEN_MINUTES)
    with tempfile.TemporaryDirectory(prefix="irl-scale-") as tmp:
        run = Run(args, url, conninfo(url), facts, app, secret, service_options(app), Path(tmp),
                  query_points(centres, args.points), viewers)  # fmt: skip
        context.update(measure(run, dealt, seeded["curve"]))
    return context, context.pop("measured")


def measure(run: Run, dealt: checkins.Dealt, curve_dbs: dict) -> dict:
    """Every chosen phase, in the order of ``PHASES``; what they found for the report."""
    args, phases, found, measured = run.args, run.args.phases, {}, {}
    if "footfall" in phases:
        print("checking rollup == raw check-ins in process ...", flush=True)
        found["rollup_equals_raw"] = footfall.rollup_equals_raw(run)
        print(f"  {found['rollup_equals_raw']}", flush=True)
    users = {*run.viewers, run.facts["owner_id"]}
    users |= {user for warm, items in dealt.rounds for user, _, _ in warm + items}
    distinct = sorted(set(run.viewers))
    stream_users = random.Random(5).sample(distinct, min(args.streams, len(distinct)))
    minted = time.perf_counter()
    run.tokens = server.mint_tokens(run.app, sorted(users))
    print(f"minted {len(run.tokens):,} tokens in {time.perf_counter() - minted:.1f} s", flush=True)
    if phases & {"reads", "curve", "geometry"}:
        reads.prepare(run)
    if "footfall" in phases:
        footfall.prepare(run)
    if "checkins" in phases:
        prepared = checkins.prepare(run, dealt.replay)
        found["replay"] = prepared.figures
    if phases & set(SERVED):
        if "streams" in phases:
            raise_fd_limit(args.streams + 1024)
        log = RESULTS / "scale.gunicorn.log"
        RESULTS.mkdir(exist_ok=True)
        with server.running_api(
            run.url, workers=args.workers, log=log, jwt_secret=run.secret
        ) as address:
            found["sanity"] = {}
            warm = [name for name in reads.ENDPOINTS if "reads" in phases]
            if "reads" in phases:
                found["sanity"].update(reads.sanity(run, address))
            if "footfall" in phases:
                found["sanity"].update(footfall.sanity(run, address))
                warm += ["ff30", "ff365"]
            print(f"sanity: {found['sanity']}\nwarming up {warm} ...", flush=True)
            for name in warm:
                wrk.run_get(address, run.files[name], args.concurrency, args.warmup + 3)
            if "reads" in phases:
                measured.update(reads.measure(run, address))
            if "footfall" in phases:
                measured.update(footfall.measure(run, address))
            if "checkins" in phases:
                rounds = checkins.measure(run, address, dealt.rounds, prepared)
                measured["checkins"], measured["checkins_sql"] = rounds
            if "streams" in phases:
                rows = streams.measure(run, address, stream_users)
                measured.update({key: [row] for key, row in rows.items()})
    if "curve" in phases:
        measured.update(curve.measure(run, curve_dbs))
    if "geometry" in phases:
        found["geometry"] = geometry.prepare(run)
        measured.update(geometry.measure(run))
    if "plans" in phases:
        found["plans"] = plans.measure(run, dealt.plans)
    return {**found, "measured": measured}


if __name__ == "__main__":
    main()
