"""A closed-loop load generator: N processes, one persistent connection each.

Each worker process opens one keep-alive HTTP connection (``http.client``) or one
psycopg connection (autocommit; a prepared statement unless asked not to), warms up,
waits for the others, then sends queries back to back for a fixed time and reports
every latency.
"""

import http.client
import multiprocessing
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import psycopg
from queries import SQL, params_for

BARRIER_TIMEOUT_S = 60


@dataclass(frozen=True)
class Target:
    """What to load: the HTTP endpoint (no ``query``) or a raw query from ``queries.SQL``."""

    name: str
    address: str  # "host:port" for the endpoint, a libpq URL for raw SQL
    query: str = ""  # a key of queries.SQL; empty for the HTTP endpoint
    prepare: bool = True  # raw SQL only: server-side prepared statement, or one-shot
    token: str = ""
    radius_m: float = 1000
    limit: int = 20


class QueryError(Exception):
    """A query that did not answer as expected."""


def open_client(target: Target) -> Callable[[float, float], int]:
    """A function that runs one query at (lat, lon) and returns the rows/bytes it got."""
    if not target.query:
        return _http_client(target)
    return _sql_client(target)


def _http_client(target: Target) -> Callable[[float, float], int]:
    host, port = target.address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Authorization": f"Bearer {target.token}", "Accept": "application/json"}

    def query(lat: float, lon: float) -> int:
        args = {"lat": f"{lat:.6f}", "lon": f"{lon:.6f}", "radius_m": target.radius_m}
        args["limit"] = target.limit
        try:
            conn.request("GET", f"/api/v1/venues/nearby?{urlencode(args)}", headers=headers)
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            conn.close()  # the next request reconnects
            raise
        if response.status != 200:
            raise QueryError(f"HTTP {response.status}: {body[:200]!r}")
        return len(body)

    return query


def _sql_client(target: Target) -> Callable[[float, float], int]:
    conn = psycopg.connect(target.address, autocommit=True)
    cursor = conn.cursor()
    sql = SQL[target.query]

    def query(lat: float, lon: float) -> int:
        params = params_for(target.query, lat, lon, target.radius_m, target.limit)
        cursor.execute(sql, params, prepare=target.prepare)
        return len(cursor.fetchall())

    return query


def _worker(target, points, offset, warmup_s, seconds, barrier, results) -> None:
    latencies: list[float] = []
    errors, first_error, elapsed = 0, None, 0.0
    try:
        query = open_client(target)
        barrier.wait(BARRIER_TIMEOUT_S)
        index = offset
        deadline = time.perf_counter() + warmup_s
        while time.perf_counter() < deadline:
            query(*points[index % len(points)])
            index += 1
        barrier.wait(BARRIER_TIMEOUT_S)
        started = time.perf_counter()
        deadline = started + seconds
        while (now := time.perf_counter()) < deadline:
            try:
                query(*points[index % len(points)])
                latencies.append(time.perf_counter() - now)
            except (QueryError, OSError, http.client.HTTPException, psycopg.Error) as exc:
                errors += 1
                first_error = first_error or repr(exc)
            index += 1
        elapsed = time.perf_counter() - started
    except Exception as exc:  # report, do not hang the others
        barrier.abort()
        errors, first_error = errors + 1, repr(exc)
    results.put((latencies, errors, first_error, elapsed))


def run_phase(
    target: Target, points: list, concurrency: int, warmup_s: float, seconds: float
) -> dict:
    """Load ``target`` with ``concurrency`` processes; latency percentiles and throughput."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(concurrency), ctx.Queue()
    stride = max(1, len(points) // concurrency)
    workers = [
        ctx.Process(
            target=_worker,
            args=(target, points, n * stride, warmup_s, seconds, barrier, results),
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


def summarise(reports: list, concurrency: int) -> dict:
    """Merge worker reports into ms percentiles and requests per second."""
    latencies = sorted(ms * 1000 for report in reports for ms in report[0])
    elapsed = max(report[3] for report in reports) or float("nan")
    summary = {
        "concurrency": concurrency,
        "requests": len(latencies),
        "errors": sum(report[1] for report in reports),
        "first_error": next((report[2] for report in reports if report[2]), None),
        "seconds": round(elapsed, 2),
        "throughput_rps": round(len(latencies) / elapsed, 1),
    }
    if len(latencies) >= 2:
        cuts = statistics.quantiles(latencies, n=100, method="inclusive")
        summary |= {
            "median_ms": round(statistics.median(latencies), 3),
            "p95_ms": round(cuts[94], 3),
            "p99_ms": round(cuts[98], 3),
            "mean_ms": round(statistics.fmean(latencies), 3),
        }
    return summary
