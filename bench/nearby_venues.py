"""Benchmark `GET /api/v1/venues/nearby` against its own SQL, on a million clustered venues.

Measures, on one fixed-seed list of query points near venue clusters:

- ``endpoint``: the API under gunicorn (gthread, as ``make run``), over keep-alive HTTP;
- ``raw_geography``: the service's SQL issued directly with psycopg (prepared statement);
- ``raw_geography_oneshot``: the same SQL unprepared, as the service ends up sending it
  (psycopg forgets prepared statements on every ROLLBACK, and each request ends in one),
  so each run is planned afresh — and may be JIT-compiled (see ``jit`` in the JSON);
- ``raw_geometry``: the same query shape on ``bench_venues_geom``, a geometry copy of
  venues, with an approximate radius in degrees — "are geography queries as fast as
  geometry ones?".

Each is run at concurrency 1 (median / p95 / p99 latency) and at ``--concurrency``
(throughput), from separate load-generator processes, after a warm-up. The benchmark
uses its own database (``BENCH_DATABASE_URL``, default ``.../irl_bench``), created,
migrated with Alembic and seeded with COPY on first run (idempotent). Results go to
stdout and ``bench/results/nearby_venues.json``.

Rerun: ``make bench`` (options through ``BENCH_ARGS="--venues 100000 --seconds 5"``) or
``.venv/bin/python bench/nearby_venues.py --help``.
"""

import argparse
import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import apiserver
import psycopg
import seeding
from loadgen import Target, print_table, ratio, run_phase
from queries import SQL, params_for

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/irl_bench"
RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = ("endpoint", "raw_geography", "raw_geography_oneshot", "raw_geometry")
LABELS = {
    "endpoint": "endpoint (HTTP, gunicorn)",
    "raw_geography": "raw SQL, geography",
    "raw_geography_oneshot": "raw SQL, geography, 1-shot",
    "raw_geometry": "raw SQL, geometry",
}
SANITY_POINTS = 50
# One user searches thousands of times a minute: every budget out of the way, but still
# counted the way `make run` counts (in Redis when REDIS_URL is set, else in process).
UNLIMITED = "100000000 per minute"
API_ENV = {
    name: UNLIMITED
    for name in ("RATE_LIMIT_READS", "RATE_LIMIT_NEARBY", "RATE_LIMIT_WRITES", "RATE_LIMIT_AUTH")
}


def rate_limit_store() -> str:
    """Where the server counts its rate limits (it inherits this environment)."""
    uri = os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL") or ""
    return uri.split("@")[-1] if uri and not uri.startswith("memory") else "memory (in process)"


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--venues", type=int, default=1_000_000, help="venues to seed (default 1,000,000)")
    add("--seconds", type=float, default=10, help="measured seconds per phase")
    add("--warmup", type=float, default=2, help="warm-up seconds per phase")
    add("--concurrency", type=int, default=4, help="clients in the throughput phase")
    add("--points", type=int, default=2000, help="distinct query points")
    add("--radius", type=float, default=1000, help="radius_m of each query")
    add("--limit", type=int, default=20, help="limit of each query")
    add("--workers", type=int, default=2, help="gunicorn workers")
    add("--threads", type=int, default=4, help="gunicorn threads per worker")
    add("--output", type=Path, default=RESULTS / "nearby_venues.json")
    return parser.parse_args()


def sanity_check(targets: dict[str, Target], points: list) -> dict:
    """Endpoint and raw geography must return the same venues; how close geometry gets."""
    address, token = targets["endpoint"].address, targets["endpoint"].token
    args = targets["endpoint"]
    same, overlap, rows = 0, 0.0, 0
    with psycopg.connect(targets["raw_geography"].address) as conn:
        for lat, lon in points[:SANITY_POINTS]:
            path = f"/api/v1/venues/nearby?lat={lat:.6f}&lon={lon:.6f}"
            path += f"&radius_m={args.radius_m}&limit={args.limit}"
            status, body = apiserver.request(address, "GET", path, token=token)
            if status != 200:
                raise RuntimeError(f"nearby answered {status}: {body}")
            api_ids = [item["id"] for item in body["items"]]
            ids = {}
            for name in SQL:
                # Same rounding as the HTTP query string, so both ask about the same point.
                params = params_for(name, round(lat, 6), round(lon, 6), args.radius_m, args.limit)
                ids[name] = [row[0] for row in conn.execute(SQL[name], params)]
            same += api_ids == ids["raw_geography"]
            geo, geom = set(ids["raw_geography"]), set(ids["raw_geometry"])
            overlap += len(geo & geom) / len(geo | geom) if geo | geom else 1.0
            rows += len(api_ids)
    checked = min(SANITY_POINTS, len(points))
    return {
        "points": checked,
        "endpoint_equals_raw_geography": same,
        "mean_rows": round(rows / checked, 1),
        "geometry_jaccard_vs_geography": round(overlap / checked, 3),
    }


def main() -> None:
    """Prepare, seed, serve, measure, report."""
    args = parse_args()
    started = time.perf_counter()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    conninfo = seeding.libpq_conninfo(url)
    seeding.prepare_and_migrate(url)
    centres, origin = seeding.load_centres()
    print(f"cluster centres: {len(centres):,} ({origin})", flush=True)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        print(f"seeding {args.venues:,} venues (skipped if present) ...", flush=True)
        seed = seeding.seed_venues(conn, args.venues, centres)
        if seed:
            print(
                f"seeded {seed['venues']:,} venues in {seed['total_s']} s: COPY {seed['copy_s']}"
                f" s, INSERT {seed['insert_s']} s ({seed['rows_per_s']:,} rows/s), CLUSTER +"
                f" ANALYZE {seed['cluster_analyze_s']} s",
                flush=True,
            )
        else:
            print("venues already seeded", flush=True)
        geom_s = seeding.ensure_geometry_table(conn)
        state = f"built in {geom_s} s" if geom_s else "up to date"
        print(f"bench_venues_geom: {state}", flush=True)
        venues = conn.execute("SELECT count(*) FROM venues").fetchone()[0]
        versions = conn.execute("SELECT version(), postgis_lib_version()").fetchone()
        jit = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN ('jit', 'jit_above_cost')"
            ).fetchall()
        )
    points = seeding.query_points(centres, args.points)

    RESULTS.mkdir(exist_ok=True)
    results: dict[str, dict] = {}
    store = rate_limit_store()
    print(f"rate limits counted in: {store}", flush=True)
    with apiserver.running_api(
        url, workers=args.workers, threads=args.threads, log=RESULTS / "gunicorn.log", env=API_ENV
    ) as address:
        token = apiserver.register_user(address)
        common = {"radius_m": args.radius, "limit": args.limit}
        targets = {
            "endpoint": Target("endpoint", address, token=token, **common),
            "raw_geography": Target("raw_geography", conninfo, "raw_geography", **common),
            "raw_geography_oneshot": Target(
                "raw_geography_oneshot", conninfo, "raw_geography", prepare=False, **common
            ),
            "raw_geometry": Target("raw_geometry", conninfo, "raw_geometry", **common),
        }
        sanity = sanity_check(targets, points)
        print(f"sanity: {sanity}", flush=True)
        for key, concurrency in (("c1", 1), ("cN", args.concurrency)):
            for name in TARGETS:
                print(f"measuring {name} at concurrency {concurrency} ...", flush=True)
                phase = run_phase(targets[name], points, concurrency, args.warmup, args.seconds)
                results.setdefault(name, {})[key] = phase

    ratios = {
        "endpoint_over_raw_median_c1": ratio(
            results["endpoint"]["c1"].get("median_ms"),
            results["raw_geography"]["c1"].get("median_ms"),
        ),
        "oneshot_over_prepared_median_c1": ratio(
            results["raw_geography_oneshot"]["c1"].get("median_ms"),
            results["raw_geography"]["c1"].get("median_ms"),
        ),
        "geography_over_geometry_median_c1": ratio(
            results["raw_geography"]["c1"].get("median_ms"),
            results["raw_geometry"]["c1"].get("median_ms"),
        ),
        "raw_over_endpoint_throughput_cN": ratio(
            results["raw_geography"]["cN"]["throughput_rps"],
            results["endpoint"]["cN"]["throughput_rps"],
        ),
        "geometry_over_geography_throughput_cN": ratio(
            results["raw_geometry"]["cN"]["throughput_rps"],
            results["raw_geography"]["cN"]["throughput_rps"],
        ),
    }
    total_s = round(time.perf_counter() - started, 1)
    print(
        f"\nnearby venues: {venues:,} venues, radius {args.radius:g} m, limit {args.limit},"
        f" {args.points} points, {args.seconds:g} s per phase, gunicorn {args.workers}"
        f" workers x {args.threads} threads, {os.cpu_count()} CPUs,"
        f" jit={jit.get('jit')} (above cost {jit.get('jit_above_cost')}),"
        f" rate limits counted in {store}\n"
    )
    print_table(results, LABELS, args.concurrency)
    print(
        f"\nendpoint / raw geography, median at c=1:  {ratios['endpoint_over_raw_median_c1']}x"
        f"\none-shot / prepared (raw geography), median at c=1: "
        f"{ratios['oneshot_over_prepared_median_c1']}x"
        f"\ngeography / geometry (raw), median at c=1: "
        f"{ratios['geography_over_geometry_median_c1']}x"
        f"\nraw / endpoint, throughput at c={args.concurrency}:    "
        f"{ratios['raw_over_endpoint_throughput_cN']}x"
        f"\ngeometry / geography, throughput at c={args.concurrency}: "
        f"{ratios['geometry_over_geography_throughput_cN']}x"
        f"\ntotal run time {total_s} s"
    )
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {key: str(value) for key, value in vars(args).items()},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "rate_limit_store": store,
        "database": {
            "postgres": versions[0],
            "postgis": versions[1],
            "venues": venues,
            "jit": jit,
        },
        "seed": seed,
        "geometry_table_build_s": geom_s,
        "sanity": sanity,
        "results": results,
        "ratios": ratios,
        "total_s": total_s,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"results written to {args.output}")


if __name__ == "__main__":
    main()
