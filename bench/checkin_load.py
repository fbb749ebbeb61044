"""Closed-loop check-in load: N processes, one keep-alive connection each, each request
a different user's ``POST /api/v1/checkins``, and a tally of what the answers earned.

Work items are ``(token, body)`` (body already JSON). Worker ``n`` of ``N`` gets the
items ``jobs[n::N]`` and sends each once: a warm-up for a fixed time, then the measured
part; it stops early, and says so, if its share runs out. Latency is measured for every
answer, whatever its status; the tally counts status codes, eligible answers, the
reasons of ineligible ones, badges, mayorships and meetings.
"""

import http.client
import json
import multiprocessing
import statistics
import time
import uuid
from collections import Counter

BARRIER_TIMEOUT_S = 120
PATH = "/api/v1/checkins"
ERRORS = (OSError, http.client.HTTPException, ValueError, KeyError)


def new_tally() -> dict:
    """Counters of one phase."""
    return {
        "status": Counter(),
        "eligible": 0,
        "ineligible": 0,
        "reasons": Counter(),
        "points": 0,
        "with_badges": 0,
        "badges": Counter(),
        "mayorship": Counter(),
        "meetings": 0,
        "with_meetings": 0,
    }


def record(tally: dict, status: int, raw: bytes) -> None:
    """Count one answer."""
    tally["status"][str(status)] += 1
    if status != 201:
        return
    answer = json.loads(raw)
    rewards = answer["rewards"]
    if rewards["eligible"]:
        tally["eligible"] += 1
    else:
        tally["ineligible"] += 1
        tally["reasons"].update(reason["code"] for reason in rewards["reasons"])
    tally["points"] += rewards["points"]
    if rewards["badges"]:
        tally["with_badges"] += 1
        tally["badges"].update(badge["key"] for badge in rewards["badges"])
    if rewards.get("mayorship"):
        tally["mayorship"][rewards["mayorship"]["status"]] += 1
    if answer["meetings"]:
        tally["with_meetings"] += 1
        tally["meetings"] += len(answer["meetings"])


def merge(tallies: list[dict]) -> dict:
    """One tally from several, with plain dicts (JSON-ready)."""
    total = new_tally()
    for tally in tallies:
        for key, value in tally.items():
            if isinstance(value, Counter):
                total[key].update(value)
            else:
                total[key] += value
    return {k: dict(v) if isinstance(v, Counter) else v for k, v in total.items()}


def _post(conn, token: str, body: str, idempotency: bool) -> tuple[int, bytes]:
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json",
        "Content-Type": "application/json",
    }
    if idempotency:
        headers["Idempotency-Key"] = uuid.uuid4().hex
    try:
        conn.request("POST", PATH, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        conn.close()  # the next request reconnects
        raise


def _worker(address, jobs, warmup_s, seconds, idempotency, barrier, results) -> None:
    host, port = address.rsplit(":", 1)
    latencies: list[float] = []
    tally, errors, first_error = new_tally(), 0, None
    warm, elapsed, index, window = 0, 0.0, 0, (0.0, 0.0)
    try:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        barrier.wait(BARRIER_TIMEOUT_S)
        deadline = time.perf_counter() + warmup_s
        while time.perf_counter() < deadline and index < len(jobs):
            try:
                _post(conn, *jobs[index], idempotency)
            except ERRORS as exc:
                errors += 1
                first_error = first_error or f"warm-up: {exc!r}"
            index += 1
            warm += 1
        barrier.wait(BARRIER_TIMEOUT_S)
        started, wall_started = time.perf_counter(), time.time()
        deadline = started + seconds
        while (now := time.perf_counter()) < deadline and index < len(jobs):
            try:
                status, raw = _post(conn, *jobs[index], idempotency)
                latencies.append(time.perf_counter() - now)
                record(tally, status, raw)
                if status >= 300 and first_error is None:
                    first_error = f"HTTP {status}: {raw[:200]!r}"
            except ERRORS as exc:
                errors += 1
                first_error = first_error or repr(exc)
            index += 1
        elapsed = time.perf_counter() - started
        window = (wall_started, time.time())
    except Exception as exc:  # report, do not hang the others
        barrier.abort()
        errors, first_error = errors + 1, repr(exc)
    ran_out = index >= len(jobs)
    results.put((latencies, tally, errors, first_error, elapsed, warm, ran_out, window))


def run_phase(
    address: str,
    jobs: list[tuple[str, str]],
    concurrency: int,
    warmup_s: float,
    seconds: float,
    idempotency: bool = False,
) -> dict:
    """Load the check-in endpoint with ``concurrency`` processes; percentiles, throughput
    and the merged tally."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(concurrency), ctx.Queue()
    workers = [
        ctx.Process(
            target=_worker,
            args=(address, jobs[n::concurrency], warmup_s, seconds, idempotency, barrier, results),
            daemon=True,
        )
        for n in range(concurrency)
    ]
    for process in workers:
        process.start()
    timeout = BARRIER_TIMEOUT_S * 2 + warmup_s + seconds + 60
    reports = [results.get(timeout=timeout) for _ in workers]
    for process in workers:
        process.join(10)
    return summarise(reports, concurrency)


def summarise(reports: list, concurrency: int) -> dict:
    """Milliseconds percentiles, requests per second and the tally."""
    latencies = sorted(seconds * 1000 for report in reports for seconds in report[0])
    elapsed = max(report[4] for report in reports) or float("nan")
    tally = merge([report[1] for report in reports])
    summary = {
        "concurrency": concurrency,
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "created_rps": round(tally["status"].get("201", 0) / elapsed, 1),
        "errors": sum(report[2] for report in reports),
        "first_error": next((report[3] for report in reports if report[3]), None),
        "warmup_requests": sum(report[5] for report in reports),
        "ran_out_of_users": any(report[6] for report in reports),
        # Wall-clock span every client was measuring in (time.time()).
        "window": (max(r[7][0] for r in reports), min(r[7][1] for r in reports)),
        **tally,
    }
    if len(latencies) >= 2:
        cuts = statistics.quantiles(latencies, n=100, method="inclusive")
        summary |= {
            "median_ms": round(statistics.median(latencies), 2),
            "p95_ms": round(cuts[94], 2),
            "p99_ms": round(cuts[98], 2),
            "mean_ms": round(statistics.fmean(latencies), 2),
            "max_ms": round(latencies[-1], 2),
        }
    return summary
