"""The measured phases of ``scale.py``: reads, footfall, check-ins (and their SQL
replayed by pgbench), the scale curve; each a warm-up and ``--rounds`` interleaved
measured rounds, every round's figures kept (``scale_report`` takes the medians).
"""

import random
import time
from pathlib import Path

import apiserver
import checkin_replay
import psycopg
import scale_checkins
import scale_pgbench
import scale_seeding
import scale_wrk
import seeding
from checkin_monitor import PhaseMonitor
from scale_report import FOOTFALL, FOOTFALL_SQL, READS, note_others, venues_of

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
SANITY_POINTS = 20


def size_label(venues: int) -> str:
    """100000 -> 100k, 10000000 -> 10m."""
    for unit, size in (("m", 1_000_000), ("k", 1_000)):
        if venues >= size and venues % size == 0:
            return f"{venues // size}{unit}"
    return str(venues)


def read_paths(name: str, lat: float, lon: float, args) -> str:
    """The GET of read phase ``name`` at one position."""
    where = f"lat={lat:.6f}&lon={lon:.6f}&radius_m={args.radius:g}"
    if name == "venues":
        return f"/api/v1/venues/nearby?{where}&limit={args.limit}"
    if name == "contacts":
        return f"/api/v1/nearby/contacts?{where}"
    return f"/api/v1/events/nearby?{where}"


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
        sql = (files["conninfo"], files["sql"], concurrency)
        scale_pgbench.run(*sql, args.warmup, options=files["options"])
        return scale_pgbench.run(*sql, args.seconds, options=files["options"])
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
        sql = (files["conninfo"], files[name], 1)
        scale_pgbench.run(*sql, 1, options=files["options"])
        return scale_pgbench.run(*sql, args.footfall_sql_seconds, options=files["options"])
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


def run_checkins(
    address: str, conninfo: str, slices: list, tokens: dict, tmp: Path, replay: dict, args
) -> tuple[list, list]:
    """Each round: a warm-up, then the measured check-ins with the CPU monitor on; then
    the captured check-ins' SQL replayed by pgbench (``checkin_replay``) at the same
    concurrency for the same seconds, after the same warm-up, the monitor on again."""
    rounds, replayed = [], []
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
            quiesce(conninfo)
            replayed.append(replay_round(address, conninfo, replay, index, args))
    return rounds, replayed


def replay_round(address: str, conninfo: str, replay: dict, index: int, args) -> dict:
    """One round of the check-ins' own SQL under pgbench (warm-up, then measured)."""
    checkin_replay.run(replay, args.checkin_warmup)
    note_others(f"checkins SQL replay round {index}")
    with PhaseMonitor(conninfo, address, client_marker="pgbench") as monitor:
        result = checkin_replay.run(replay, args.checkin_seconds)
    ended = result["window"][1]  # the run's last seconds: not pgbench's start-up
    window = (max(result["window"][0], ended - args.checkin_seconds), ended)
    result["machine"] = monitor.report(window, result["requests"], args.checkin_seconds)
    print(
        f"  round {index} SQL replay: {result['throughput_rps']}/s, median"
        f" {result['median_ms']} ms, p99 {result['p99_ms']} ms, retried {result['retried']}"
        + (
            f", errors {result['errors']} ({result.get('first_error')})" if result["errors"] else ""
        ),
        flush=True,
    )
    return result


def run_curve(url: str, curve: dict, files: dict, secret: str, world_user: int, args) -> dict:
    """Nearby venues at c=1 on each database of the curve (the API restarted on each),
    and its SQL alone, ``--rounds`` times, round robin."""
    points = [
        (label, scale_seeding.curve_url(url, label), record["user_id"])
        for label, record in curve.items()
    ]
    points.append((size_label(args.venues), url, world_user))
    points.sort(key=lambda item: venues_of(item[0]))
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
            scale_pgbench.run(conninfo, files["sql"], 1, args.warmup, options=files["options"])
            sql = scale_pgbench.run(
                conninfo, files["sql"], 1, args.seconds, options=files["options"]
            )
            found.setdefault(f"curve_sql_{label}", []).append(sql)
            print(
                f"  round {round_no} {label}: endpoint median {result['median_ms']} ms,"
                f" SQL median {sql['median_ms']} ms",
                flush=True,
            )
    return found


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
