"""Benchmark `POST /api/v1/checkins` on a year of history, and what reward evaluation adds.

Issue "Rewards": the added cost of reward evaluation per check-in with 10 M check-ins of
history; goal: the whole check-in request stays at 500/s or more on this machine with 8
clients. On 100,000 users with a year of check-ins at 100,000 venues clustered like New
York (``checkin_seeding``: favourite venues near home, the rewards state derived from the
history, 50 mutual contacts each), it runs two phases with the same load:

- ``eligible``: each request a different random user checking in at one of their
  favourite venues (or another near home), on the spot, ``accuracy_m`` 20 — the full
  path: eligibility, points, first visit, streak, city, visit day and mayorship, meeting
  detection, every badge rule;
- ``ineligible``: the same, with ``accuracy_m`` 900 — the check-in is stored (it is
  ``imprecise``) and answered 201 with nothing earned, so none of the reward code runs
  (pair locks, eligibility measures and the insert still do).

The difference of the two is what reward evaluation costs a check-in. Each phase runs
``--concurrency`` closed-loop clients (separate processes, keep-alive ``http.client``)
against gunicorn (gthread) for a fixed time after a warm-up, and reports throughput,
median / p95 / p99, status codes and how many answers earned points, badges,
mayorships and meetings. Then ``--profile`` more eligible check-ins run in-process
(``checkin_profile``): time per service function (sampled stacks) and per SQL
statement (timed at the cursor, by call site), and ``EXPLAIN ANALYZE`` of the slowest
SELECTs.

The benchmark owns its database (``BENCH_CHECKINS_DATABASE_URL``, default
``.../irl_bench_checkins``): created (``scripts/prepare_db.py``), migrated with Alembic,
seeded with COPY on first run and reused while the seeding options stay the same.
Results go to stdout and ``bench/results/checkin_throughput.json``.

Rerun: ``.venv/bin/python bench/checkin_throughput.py --help`` (``--history 1000000``
for a quicker seed).
"""

import argparse
import json
import math
import os
import platform
import random
import secrets
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import apiserver
import psycopg
import seeding
from checkin_load import run_phase
from checkin_monitor import KINDS, PhaseMonitor

# checkin_seeding (numpy, scipy) and checkin_profile (the whole app) are imported where
# they are used: the load processes are spawned, and each imports this module again.

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/irl_bench_checkins"
RESULTS = Path(__file__).resolve().parent / "results"
GOAL_RPS = 500
ACCURACY = {"eligible": 20.0, "ineligible": 900.0}
LABELS = {
    "eligible": "eligible (accuracy 20 m): full rewards",
    "ineligible": "ineligible (accuracy 900 m): no rewards",
}
JITTER_M = 8.0  # how far from the venue's point the phone says it is (1 sigma)
FAVOURITE_SHARE = 0.8  # as checkin_seeding.FAVOURITE_SHARE
OTHER_CORES_WARNING = 0.2  # "other" CPU beyond this during a phase: not a clean measurement
BUSY_MARKERS = ("bench/", "gunicorn", "pytest")  # processes that compete for the CPUs


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--venues", type=int, default=100_000, help="venues (default 100,000)")
    add("--users", type=int, default=100_000, help="users (default 100,000)")
    add("--history", type=int, default=10_000_000, help="check-ins of history (10,000,000)")
    add("--contacts", type=int, default=50, help="mutual contacts per user (even; 0: none)")
    add("--seconds", type=float, default=20, help="measured seconds per phase")
    add("--warmup", type=float, default=5, help="warm-up seconds per phase")
    add("--concurrency", type=int, default=8, help="concurrent clients")
    add("--workers", type=int, default=3, help="gunicorn workers")
    add("--threads", type=int, default=4, help="gunicorn threads per worker")
    add("--profile", type=int, default=300, help="in-process profiled check-ins (0: none)")
    add("--explain", type=int, default=8, help="slowest SELECTs to EXPLAIN ANALYZE")
    add("--idempotency-key", action="store_true", help="send an Idempotency-Key with each")
    add("--phases", default="eligible,ineligible", help="which phases, comma-separated")
    add("--seed", type=int, default=11, help="seed of the history")
    add("--output", type=Path, default=RESULTS / "checkin_throughput.json")
    return parser.parse_args()


def other_benchmarks() -> list[str]:
    """Command lines of other benchmarks, gunicorns or test runs now (they skew numbers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        if any(marker in command for marker in BUSY_MARKERS) and "checkin_" not in command:
            found.append(f"{entry.name}: {command[:120]}")
    return found


def near(lat: float, lon: float, rng: random.Random) -> tuple[float, float]:
    """A gaussian point ``JITTER_M`` metres (1 sigma) around a venue, 6 decimals."""
    dlat = rng.gauss(0, JITTER_M) / seeding.METRES_PER_DEGREE
    dlon = rng.gauss(0, JITTER_M) / (seeding.METRES_PER_DEGREE * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)


def body_for(favourites: list, nearby: list, accuracy: float, rng: random.Random) -> str:
    """A check-in at a favourite (the first ones most often, as in the history) or, one
    time in five, at another venue near home."""
    if rng.random() < FAVOURITE_SHARE:
        venue_id, lat, lon = favourites[int(rng.random() ** 2 * len(favourites))]
    else:
        venue_id, lat, lon = rng.choice(nearby)
    lat, lon = near(lat, lon, rng)
    return json.dumps(
        {"venue_id": venue_id, "location": {"lat": lat, "lon": lon}, "accuracy_m": accuracy}
    )


def deal_users(plan: list, profile: int, rng: random.Random) -> dict[str, list]:
    """Disjoint random users for each phase and for the profile (each checks in once), so
    no request meets the 30-an-hour limit or the user's own ``too_soon``."""
    order = plan[:]
    rng.shuffle(order)
    profiled = order[: min(profile, len(order) // 5)]
    rest = order[len(profiled) :]
    return {"eligible": rest[0::2], "ineligible": rest[1::2], "profile": profiled}


def history_state(conn: psycopg.Connection) -> dict:
    """Sizes that say what the check-ins ran against."""
    row = conn.execute(
        "SELECT (SELECT count(*) FROM checkins), (SELECT count(*) FROM users),"
        " (SELECT count(*) FROM venues), (SELECT count(*) FROM user_venues),"
        " (SELECT count(*) FROM venue_visit_days), (SELECT count(*) FROM user_badges),"
        " (SELECT count(*) FROM venue_mayors), (SELECT count(*) FROM relationships),"
        " pg_total_relation_size('checkins'), pg_database_size(current_database())"
    ).fetchone()
    keys = (
        "checkins",
        "users",
        "venues",
        "user_venues",
        "venue_visit_days",
        "user_badges",
        "venue_mayors",
        "relationships",
        "checkins_bytes",
        "database_bytes",
    )
    return dict(zip(keys, row, strict=True))


def code_version() -> dict:
    """The commit measured, and whether the service code had uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=seeding.ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "service", "geo", "migrations"],
            cwd=seeding.ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None}
    return {"commit": head, "service_changes_uncommitted": bool(dirty)}


def compare(results: dict) -> dict | None:
    """Eligible minus ineligible: what reward evaluation adds (None without both)."""
    if "eligible" not in results or "ineligible" not in results:
        return None
    full, bare = results["eligible"], results["ineligible"]
    cpus = os.cpu_count() or 1
    added = {
        key: round(full.get(key, 0) - bare.get(key, 0), 2)
        for key in ("median_ms", "p95_ms", "p99_ms", "mean_ms")
    }
    if full["throughput_rps"] and bare["throughput_rps"]:
        added["throughput_drop_pct"] = round(
            100 * (1 - full["throughput_rps"] / bare["throughput_rps"]), 1
        )
        # At saturation every core is busy, so cores / throughput is the machine time one
        # check-in takes; the difference is the machine time rewards add.
        added["machine_ms_per_checkin"] = round(
            1000 * cpus / full["throughput_rps"] - 1000 * cpus / bare["throughput_rps"], 2
        )
    return added


def print_table(results: dict, concurrency: int) -> None:
    """The two phases side by side."""
    head = (
        f"{'phase':42}{'req/s':>8}{'median':>8}{'p95':>8}{'p99':>8}{'201':>7}{'other':>6}"
        f"{'eligible':>9}{'badges':>7}{'mayor':>6}{'meet':>5}"
    )
    print(head + "\n" + "-" * len(head))
    for name, r in results.items():
        label = LABELS[name]
        status = r["status"]
        other = sum(v for k, v in status.items() if k != "201") + r["errors"]
        mayors = sum(r["mayorship"].values())
        print(
            f"{label:42}{r['throughput_rps']:>8.0f}{r.get('median_ms', 0):>8.1f}"
            f"{r.get('p95_ms', 0):>8.1f}{r.get('p99_ms', 0):>8.1f}{status.get('201', 0):>7}"
            f"{other:>6}{r['eligible']:>9}{r['with_badges']:>7}{mayors:>6}"
            f"{r['with_meetings']:>5}"
        )
    print(
        f"(c={concurrency}; latencies in ms; badges / mayor / meet: answers that earned a badge,"
        " held or won a mayorship, completed a meeting)"
    )


def print_cpu(results: dict) -> None:
    """Where the machine's time went in each phase."""
    kinds = (*KINDS, "machine busy")
    head = f"{'CPU ms per check-in (cores used)':42}" + "".join(f"{k:>16}" for k in kinds)
    head += f"{'buffer hits':>13}{'reads':>7}"
    print(head + "\n" + "-" * len(head))
    for name, r in results.items():
        machine = r["machine"]
        if "cpu_ms_per_request" not in machine:
            continue
        cells = "".join(
            f"{machine['cpu_ms_per_request'][k]:>9.2f} ({machine['cpu_cores_used'][k]:.2f})"
            for k in kinds
        )
        buffers = machine["buffers_per_request"]
        print(f"{LABELS[name]:42}{cells}{buffers['hits']:>13.0f}{buffers['reads']:>7.0f}")
    print(
        "(api: gunicorn workers; postgres: all its processes; load clients: the 8 client"
        " processes; other: the rest of the machine's busy time; buffer hits / reads:"
        " shared-buffer pages found / read from the OS per check-in)"
    )
    for name, r in results.items():
        other = r["machine"].get("cpu_cores_used", {}).get("other", 0)
        if other > OTHER_CORES_WARNING:
            print(
                f"WARNING: something else used {other} cores during {name}: its numbers are"
                " skewed; rerun on a quiet machine"
            )


def main() -> None:
    """Prepare, seed, serve, load, profile, report."""
    import checkin_profile
    import checkin_seeding

    args = parse_args()
    started = time.perf_counter()
    busy = other_benchmarks()
    if busy:
        print("WARNING: other benchmarks or servers are running; numbers will be skewed:")
        print("\n".join(f"  {line}" for line in busy), flush=True)
    url = os.environ.get("BENCH_CHECKINS_DATABASE_URL", DEFAULT_URL)
    conninfo = seeding.libpq_conninfo(url)
    seeding.prepare_and_migrate(url)
    centres, origin = seeding.load_centres()
    print(f"cluster centres: {len(centres):,} ({origin})", flush=True)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        print(f"seeding {args.venues:,} venues (skipped if present) ...", flush=True)
        venue_seed = seeding.seed_venues(conn, args.venues, centres)
        print(f"venues: {venue_seed or 'already seeded'}", flush=True)
        print(
            f"seeding {args.users:,} users, {args.history:,} check-ins of history,"
            f" {args.contacts} contacts each (skipped if the same is there) ...",
            flush=True,
        )
        history_seed = checkin_seeding.seed_history(
            conn,
            venues=args.venues,
            users=args.users,
            history=args.history,
            contacts=args.contacts,
            seed=args.seed,
        )
        if history_seed:
            print(f"seeded history in {history_seed['timings']['total_s']} s", flush=True)
        else:
            previous = checkin_seeding.seeded_options(conn)
            print(f"history already seeded (took {previous['timings']['total_s']} s)")
        seed_timings = (checkin_seeding.seeded_options(conn) or {}).get("timings")
        state = history_state(conn)
        print(f"database: {state}", flush=True)
        plan = checkin_seeding.plan_rows(conn)
        versions = conn.execute("SELECT version(), postgis_lib_version()").fetchone()
        conn.execute("CHECKPOINT")

    rng = random.Random(time.time_ns())  # fresh users and venues on every run
    dealt = deal_users(plan, args.profile, rng)
    jobs = {
        name: [
            (user_id, body_for(favourites, nearby, ACCURACY[name], rng))
            for user_id, favourites, nearby in dealt[name]
        ]
        for name in LABELS
    }
    secret = secrets.token_urlsafe(48)
    minted = time.perf_counter()
    tokens = apiserver.mint_tokens(
        url, secret, [user_id for name in LABELS for user_id, _ in jobs[name]]
    )
    print(f"minted {len(tokens):,} tokens in {time.perf_counter() - minted:.1f} s", flush=True)

    RESULTS.mkdir(exist_ok=True)
    results: dict[str, dict] = {}
    log = RESULTS / "checkin_throughput.gunicorn.log"
    with apiserver.running_api(
        url, workers=args.workers, threads=args.threads, log=log, jwt_secret=secret
    ) as address:
        for name in args.phases.split(","):
            items = [(tokens[user_id], body) for user_id, body in jobs[name]]
            print(
                f"measuring {name}: {args.concurrency} clients, {args.warmup:g} s warm-up +"
                f" {args.seconds:g} s ...",
                flush=True,
            )
            with PhaseMonitor(conninfo, address) as monitor:
                phase = run_phase(
                    address,
                    items,
                    args.concurrency,
                    args.warmup,
                    args.seconds,
                    args.idempotency_key,
                )
            phase["machine"] = monitor.report(phase["window"], phase["requests"], phase["seconds"])
            results[name] = phase
            print(
                f"  {phase['throughput_rps']} req/s; CPU ms per request"
                f" {phase['machine'].get('cpu_ms_per_request')}; active backends by wait"
                f" {phase['machine']['active_backends_by_wait']}",
                flush=True,
            )

    profile = None
    if args.profile and dealt["profile"]:
        print(f"profiling {len(dealt['profile'])} check-ins in-process ...", flush=True)
        profile_jobs = [
            (user_id, body_for(favourites, nearby, ACCURACY["eligible"], rng))
            for user_id, favourites, nearby in dealt["profile"]
        ]
        profile = checkin_profile.profile(url, profile_jobs, args.explain)

    added = compare(results)
    eligible = results.get("eligible")
    goal_met = bool(eligible) and eligible["created_rps"] >= GOAL_RPS and not eligible["errors"]
    total_s = round(time.perf_counter() - started, 1)
    code = code_version()
    dirty = ", uncommitted service changes" if code.get("service_changes_uncommitted") else ""

    print(
        f"\ncheck-in throughput (code {code['commit']}{dirty}): {state['checkins']:,}"
        f" check-ins of history, {state['users']:,}"
        f" users, {state['venues']:,} venues, {args.contacts} contacts each; gunicorn"
        f" {args.workers} workers x {args.threads} threads, {os.cpu_count()} CPUs,"
        f" {args.seconds:g} s per phase after {args.warmup:g} s warm-up\n"
    )
    print_table(results, args.concurrency)
    print()
    print_cpu(results)
    if added:
        print(
            f"\nadded by reward evaluation: median +{added['median_ms']} ms, p95"
            f" +{added['p95_ms']} ms, mean +{added['mean_ms']} ms; throughput"
            f" -{added['throughput_drop_pct']} %"
            f" ({added['machine_ms_per_checkin']} ms of the whole machine per check-in)"
        )
    if eligible:
        print(
            f"goal >= {GOAL_RPS} check-ins/s with {args.concurrency} clients:"
            f" {'met' if goal_met else 'NOT met'} ({eligible['created_rps']} created/s)"
        )
    for name, r in results.items():
        print(
            f"{name}: statuses {r['status']}, reasons {r['reasons']}, badges {r['badges']},"
            f" mayorships {r['mayorship']}, meetings {r['meetings']}, errors {r['errors']}"
            + (f", first error {r['first_error']}" if r["first_error"] else "")
            + (", RAN OUT OF USERS" if r["ran_out_of_users"] else "")
        )
    if profile:
        checkin_profile.print_report(profile)
    print(f"\ntotal run time {total_s} s")
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {key: str(value) for key, value in vars(args).items()},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "code": code,
        "other_benchmarks_running_at_start": busy,
        "database": {"postgres": versions[0], "postgis": versions[1], **state},
        "seed": {"venues": venue_seed, "history_timings": seed_timings},
        "results": results,
        "added_by_rewards": added,
        "goal": {"checkins_per_s": GOAL_RPS, "met": goal_met},
        "profile": profile,
        "total_s": total_s,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"results written to {args.output}")


if __name__ == "__main__":
    main()
