"""Nearby venues, contacts and events (wrk), and the venues' statement alone (pgbench)."""

import random

from bench.harness import pgbench, sql, wrk
from bench.harness.database import quiesce
from bench.harness.server import get
from bench.phases.run import Run

READS = ("venues", "venues_sql", "contacts", "events")
ENDPOINTS = ("venues", "contacts", "events")
SANITY_POINTS = 20
PER_QUERY = {"lat", "lon", "radius", "limit"}  # the nearby statement's own parameters


def path(name: str, lat: float, lon: float, args) -> str:
    """The GET of read phase ``name`` at one position."""
    where = f"lat={lat:.6f}&lon={lon:.6f}&radius_m={args.radius:g}"
    if name == "venues":
        return f"/api/v1/venues/nearby?{where}&limit={args.limit}"
    if name == "contacts":
        return f"/api/v1/nearby/contacts?{where}"
    return f"/api/v1/events/nearby?{where}"


def items(run: Run, name: str) -> list[tuple[str, str]]:
    """``(token, path)`` of every query position, each as its viewer."""
    return [
        (run.tokens[viewer], path(name, lat, lon, run.args))
        for (lat, lon), viewer in zip(run.points, run.viewers, strict=True)
    ]


def nearby_statement(run: Run) -> tuple[str, dict]:
    """Take the statement a real ``GET /venues/nearby`` sends, and its other parameters."""
    process = sql.InProcess(run.app)
    lat, lon = run.points[0]
    sent = process.send(run.viewers[0], "GET", path("venues", lat, lon, run.args))
    process.close()
    nearby = sql.with_params(sent.statements, PER_QUERY)
    values = {"radius": float(run.args.radius), "limit": int(run.args.limit)}
    values.update({key: value for key, value in nearby.params.items() if key not in PER_QUERY})
    return nearby.sql, values


def prepare(run: Run) -> None:
    """Write the endpoints' items and the nearby-venues pgbench script."""
    for name in ENDPOINTS:
        run.files[name] = wrk.write_items(run.tmp / f"{name}.txt", items(run, name))
    run.files["venues_sql"] = run.tmp / "nearby.sql"
    run.files["venues_sql"].write_text(sql.positions_script(run.points, *nearby_statement(run)))


def sanity(run: Run, address: str) -> dict:
    """Every endpoint answers 200 on the first points; how much they return."""
    found = {}
    for name in ENDPOINTS:
        sample = items(run, name)[:SANITY_POINTS]
        counts = [len(get(address, where, token)["items"]) for token, where in sample]
        found[name] = {"points": len(counts), "mean_items": round(sum(counts) / len(counts), 2)}
    return found


def measure(run: Run, address: str) -> dict[str, list]:
    """Every read phase at c=1 and c=N, ``--rounds`` times, round robin."""
    args, found = run.args, {}
    print(f"reads: {args.rounds} rounds ...", flush=True)
    for round_no in range(1, args.rounds + 1):
        for concurrency in (1, args.concurrency):
            for name in READS:
                if name == "venues_sql":
                    script = (run.conninfo, run.files[name], concurrency, args.seconds, run.options)
                    result = pgbench.run(*script, args.warmup)
                else:
                    seed, target = random.randrange(1, 10**6), run.files[name]
                    result = wrk.run_get(
                        address, target, concurrency, args.seconds, seed, args.warmup
                    )
                result["quiesce_s"] = quiesce(run.conninfo)
                found.setdefault(f"{name}_c{concurrency}", []).append(result)
                print(f"  round {round_no} {name} c={concurrency}: {line(result)}", flush=True)
    return found


def line(result: dict) -> str:
    """One measured run in a few words."""
    errors = f", errors {result['errors']}" if result["errors"] else ""
    return (
        f"median {result['median_ms']} ms, p99 {result['p99_ms']} ms,"
        f" {result['throughput_rps']}/s, {result['requests']} requests{errors}"
    )
