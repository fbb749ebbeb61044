"""A closed-loop load generator: N processes, one persistent connection each.

Each worker process opens one keep-alive HTTP connection (``http.client``) or one
psycopg connection (autocommit; a prepared statement unless asked not to), warms up,
waits for the others, then sends queries back to back for a fixed time and reports
every latency.

Work items are ``(lat, lon)`` or ``(lat, lon, token)`` for a nearby GET (a per-item
bearer token overrides the target's), and ``(token, body)`` for a POST. A target marked
``once`` (writes: each item may be sent only once) splits the items between the workers
instead of cycling over them, and a worker stops when its share runs out.
"""

import http.client
import json
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
    """What to load: an HTTP endpoint (no ``query``) or a raw query from ``queries.SQL``."""

    name: str
    address: str  # "host:port" for the endpoint, a libpq URL for raw SQL
    query: str = ""  # a key of queries.SQL; empty for the HTTP endpoint
    prepare: bool = True  # raw SQL only: server-side prepared statement, or one-shot
    token: str = ""
    radius_m: float = 1000
    limit: int = 20
    path: str = "/api/v1/venues/nearby"  # HTTP only: a nearby GET, or a POST's path
    method: str = "GET"  # HTTP only; POST sends each item's body as JSON, expects 201
    once: bool = False  # send each item at most once (split between workers, no cycling)


class QueryError(Exception):
    """A query that did not answer as expected."""


ERRORS = (QueryError, OSError, http.client.HTTPException, psycopg.Error)


def open_client(target: Target) -> Callable[..., int]:
    """A function that runs one work item and returns how many results it got (rows,
    items of a nearby page, meetings of a check-in)."""
    if target.query:
        return _sql_client(target)
    if target.method == "POST":
        return _post_client(target)
    return _http_client(target)


def _exchange(
    conn: http.client.HTTPConnection, method: str, path: str, headers: dict, body=None
) -> tuple[int, bytes]:
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        conn.close()  # the next request reconnects
        raise


def _http_client(target: Target) -> Callable[..., int]:
    host, port = target.address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)

    def query(lat: float, lon: float, token: str = "") -> int:
        args = {"lat": f"{lat:.6f}", "lon": f"{lon:.6f}", "radius_m": target.radius_m}
        args["limit"] = target.limit
        headers = {"Authorization": f"Bearer {token or target.token}"}
        headers["Accept"] = "application/json"
        status, body = _exchange(conn, "GET", f"{target.path}?{urlencode(args)}", headers)
        if status != 200:
            raise QueryError(f"HTTP {status}: {body[:200]!r}")
        return len(json.loads(body)["items"])

    return query


def _post_client(target: Target) -> Callable[..., int]:
    host, port = target.address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)

    def query(token: str, payload: dict) -> int:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        headers["Content-Type"] = "application/json"
        status, body = _exchange(conn, "POST", target.path, headers, json.dumps(payload))
        if status != 201:
            raise QueryError(f"HTTP {status}: {body[:200]!r}")
        answer = json.loads(body)
        if not answer["rewards"]["eligible"]:
            raise QueryError(f"not eligible: {answer['rewards']['reasons']}")
        return len(answer["meetings"])

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
    errors, first_error, elapsed, counted = 0, None, 0.0, 0
    # A ``once`` worker got its own share and must not reuse an item.
    left = len(points) if target.once else float("inf")
    try:
        query = open_client(target)
        barrier.wait(BARRIER_TIMEOUT_S)
        index = offset
        deadline = time.perf_counter() + warmup_s
        while time.perf_counter() < deadline and index < left:
            try:
                query(*points[index % len(points)])
            except ERRORS as exc:  # counted, so a bad warm-up shows in the table
                errors += 1
                first_error = first_error or f"warm-up: {exc!r}"
            index += 1
        barrier.wait(BARRIER_TIMEOUT_S)
        started = time.perf_counter()
        deadline = started + seconds
        while (now := time.perf_counter()) < deadline and index < left:
            try:
                counted += query(*points[index % len(points)])
                latencies.append(time.perf_counter() - now)
            except ERRORS as exc:
                errors += 1
                first_error = first_error or repr(exc)
            index += 1
        elapsed = time.perf_counter() - started
    except Exception as exc:  # report, do not hang the others
        barrier.abort()
        errors, first_error = errors + 1, repr(exc)
    results.put((latencies, errors, first_error, elapsed, counted))


def run_phase(
    target: Target, points: list, concurrency: int, warmup_s: float, seconds: float
) -> dict:
    """Load ``target`` with ``concurrency`` processes; latency percentiles and throughput.

    Cycling targets start each worker at its own offset in ``points``; a ``once`` target
    gives worker ``n`` the items ``points[n::concurrency]`` (it stops when they run out).
    """
    return summarise(_load(target, points, concurrency, warmup_s, seconds), concurrency)


def run_rounds(
    phases: dict[str, tuple[Target, list]],
    concurrency: int,
    warmup_s: float,
    seconds: float,
    rounds: int,
) -> dict[str, dict]:
    """Run every phase ``name: (target, items)`` for ``seconds / rounds`` (after its own
    warm-up), round-robin, ``rounds`` times, and summarise each phase over its rounds.

    On a shared machine, load that comes and goes then hits every phase alike, so their
    ratios hold better than with one long phase each. A ``once`` target gets disjoint
    items each round (``items[r::rounds]``).
    """
    reports: dict[str, list] = {name: [] for name in phases}
    elapsed = dict.fromkeys(phases, 0.0)
    for index in range(rounds):
        for name, (target, items) in phases.items():
            share = items[index::rounds] if target.once else items
            got = _load(target, share, concurrency, warmup_s, seconds / rounds)
            reports[name] += got
            elapsed[name] += max(report[3] for report in got)
    return {name: summarise(reports[name], concurrency, elapsed[name]) for name in phases}


def _load(
    target: Target, points: list, concurrency: int, warmup_s: float, seconds: float
) -> list[tuple]:
    """The workers' reports: ``(latencies, errors, first error, seconds, results)``."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(concurrency), ctx.Queue()
    stride = max(1, len(points) // concurrency)
    shares = [
        (points[n::concurrency], 0) if target.once else (points, n * stride)
        for n in range(concurrency)
    ]
    workers = [
        ctx.Process(
            target=_worker,
            args=(target, items, offset, warmup_s, seconds, barrier, results),
            daemon=True,
        )
        for items, offset in shares
    ]
    for process in workers:
        process.start()
    timeout = BARRIER_TIMEOUT_S * 2 + warmup_s + seconds
    reports = [results.get(timeout=timeout) for _ in workers]
    for process in workers:
        process.join(10)
    return reports


def summarise(reports: list, concurrency: int, elapsed: float | None = None) -> dict:
    """Merge worker reports into ms percentiles and requests per second (over
    ``elapsed`` seconds: by default the longest worker's)."""
    latencies = sorted(ms * 1000 for report in reports for ms in report[0])
    if elapsed is None:
        elapsed = max(report[3] for report in reports)
    elapsed = elapsed or float("nan")
    summary = {
        "concurrency": concurrency,
        "requests": len(latencies),
        "errors": sum(report[1] for report in reports),
        "first_error": next((report[2] for report in reports if report[2]), None),
        "seconds": round(elapsed, 2),
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "results_total": sum(report[4] for report in reports),
        "results_per_request": round(sum(r[4] for r in reports) / max(1, len(latencies)), 2),
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


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either is missing."""
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 2)


def print_table(results: dict, labels: dict[str, str], concurrency: int) -> None:
    """Phase results (``results[name]["c1"|"cN"]``, in ``labels`` order) as a table."""
    width = max(30, *(len(label) + 2 for label in labels.values()))
    head = f"{'':{width}}{'c=1 median':>11}{'p95':>8}{'p99':>8}{'req/s':>9}"
    head += f"{f'c={concurrency} req/s':>12}{'median':>9}{'p95':>8}{'errors':>8}{'results':>9}"
    print(head + "\n" + "-" * len(head))
    for name, label in labels.items():
        one, many = results[name]["c1"], results[name]["cN"]
        print(
            f"{label:{width}}{one.get('median_ms', 0):>11.2f}{one.get('p95_ms', 0):>8.2f}"
            f"{one.get('p99_ms', 0):>8.2f}{one['throughput_rps']:>9.0f}"
            f"{many['throughput_rps']:>12.0f}{many.get('median_ms', 0):>9.2f}"
            f"{many.get('p95_ms', 0):>8.2f}{one['errors'] + many['errors']:>8}"
            f"{one.get('results_per_request', 0):>9.2f}"
        )
    print("(latencies in ms; results: rows, items or meetings per request at c=1)")
