"""The machine, the code and the results table of ``scale.py``: medians of the rounds,
the issue's goals with PASS / FAIL, and the CPU accounting of the check-ins."""

import os
import platform
import statistics
import subprocess
from pathlib import Path

import psycopg
from seeding import ROOT

METRICS = ("median_ms", "p99_ms", "throughput_rps")
BUSY_MARKERS = ("bench/", "gunicorn", "pytest", "wrk", "pgbench")


def machine(conninfo: str) -> dict:
    """CPUs, RAM, OS, Python, PostgreSQL and PostGIS versions, the server's settings."""
    memory = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
    with psycopg.connect(conninfo) as conn:
        versions = conn.execute("SELECT version(), postgis_lib_version()").fetchone()
        settings = dict(
            conn.execute(
                "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN"
                " ('shared_buffers', 'work_mem', 'effective_cache_size', 'autovacuum',"
                " 'max_connections', 'synchronous_commit', 'jit', 'random_page_cost')"
            ).fetchall()
        )
    return {
        "cpus": os.cpu_count(),
        "ram_gb": round(int(memory) / 2**20, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgres": versions[0],
        "postgis": versions[1],
        "pg_settings": settings,
    }


def code() -> dict:
    """The commit measured, and whether the service code differed from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--", "service", "geo", "migrations", "wsgi.py")
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "service_changes_uncommitted": bool(changed),
        "changed": changed.splitlines(),
    }


def _processes() -> dict[int, tuple[int, str]]:
    """``pid: (parent pid, command line)`` of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        found[int(entry.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), command)
    return found


def competitors() -> list[str]:
    """Other benchmarks, servers, load generators or test runs than this one and its
    children (they skew the numbers)."""
    processes = _processes()
    mine, pid = set(), os.getpid()
    while pid > 1 and pid in processes:  # this process and its ancestors
        mine.add(pid)
        pid = processes[pid][0]
    grown = True
    while grown:  # ... and its descendants
        children = {p for p, (parent, _) in processes.items() if parent in mine} - mine
        grown = bool(children)
        mine |= children
    return [
        f"{pid}: {command[:120]}"
        for pid, (_, command) in sorted(processes.items())
        if pid not in mine and any(marker in command for marker in BUSY_MARKERS)
    ]


def median_of_rounds(rounds: list[dict]) -> dict:
    """Each metric's median over the rounds, and the range of the medians."""
    found = {}
    for key in METRICS:
        values = [r[key] for r in rounds if r.get(key) is not None]
        if values:
            found[key] = round(statistics.median(values), 3)
    medians = [r["median_ms"] for r in rounds if r.get("median_ms") is not None]
    if medians:
        found["median_range_ms"] = (min(medians), max(medians))
    found["rounds"] = len(rounds)
    found["requests"] = sum(r.get("requests", 0) for r in rounds)
    found["errors"] = sum(sum(r.get("errors", {}).values()) for r in rounds)
    return found


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator to 2 decimals, None without both."""
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 2)


def print_table(rows: list[tuple[str, int, dict]]) -> None:
    """One line per measured row: concurrency, medians of the rounds and their range."""
    head = (
        f"{'row':52}{'c':>3}{'median ms':>11}{'p99 ms':>10}{'req/s':>9}"
        f"{'medians of rounds':>21}{'requests':>10}{'errors':>8}"
    )
    print(head + "\n" + "-" * len(head))
    for label, concurrency, r in rows:
        spread = r.get("median_range_ms")
        spread_text = f"{spread[0]:.2f}-{spread[1]:.2f}" if spread else "-"
        print(
            f"{label:52}{concurrency:>3}{_num(r.get('median_ms')):>11}{_num(r.get('p99_ms')):>10}"
            f"{_num(r.get('throughput_rps'), 0):>9}{spread_text:>21}{r.get('requests', 0):>10}"
            f"{r.get('errors', 0):>8}"
        )


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def goals(results: dict, curve: tuple[str, str] | None) -> list[dict]:
    """The issue's goals, each with what was measured and PASS / FAIL; ``curve``: the
    smallest and the largest database of the scale curve (labels)."""
    small, large = curve or ("-", "-")
    # (goal, result key, metric, divided by this result's median or None, sense, target)
    specs = [
        ("nearby venues endpoint / raw SQL, median c=1", "venues_c1", "median_ms",
         "venues_sql_c1", "<=", 3.0),
        ("nearby contacts / nearby venues, median c=1", "contacts_c1", "median_ms",
         "venues_c1", "<=", 2.0),
        ("nearby events / nearby venues, median c=1", "events_c1", "median_ms",
         "venues_c1", "<=", 2.0),
        ("check-ins per second, c=8", "checkins", "throughput_rps", None, ">=", 500.0),
        ("check-ins p99 / median, c=8", "checkins", "p99_ms", "checkins", "<=", 5.0),
        ("footfall 30 days (rollup) median ms", "ff30", "median_ms", None, "<=", 50.0),
        ("footfall 365 days (rollup) median ms", "ff365", "median_ms", None, "<=", 50.0),
        ("footfall 30 days raw / rollup, median", "ff30_raw", "median_ms", "ff30", ">=", 10.0),
        ("footfall 365 days raw / rollup, median", "ff365_raw", "median_ms", "ff365", ">=",
         10.0),
        (f"nearby venues {large} / {small} venues, median c=1", f"curve_{large}", "median_ms",
         f"curve_{small}", "<=", 1.5),
    ]  # fmt: skip
    verdicts = []
    for label, key, metric, under, sense, target in specs:
        value = results.get(key, {}).get(metric)
        if under is not None:
            value = ratio(value, results.get(under, {}).get("median_ms"))
        met = value is not None and (value <= target if sense == "<=" else value >= target)
        verdict = "PASS" if met else "FAIL" if value is not None else "n/a"
        errors = sum(results.get(k, {}).get("errors", 0) for k in {key, under} if k)
        if errors:
            verdict += f" ({errors} failed requests in the rows measured)"
        verdicts.append(
            {"goal": label, "measured": value, "target": f"{sense} {target:g}", "verdict": verdict}
        )
    return verdicts


def notes(results: dict) -> list[tuple[str, float | None]]:
    """Ratios that explain the goals: at c=8, and the footfall statements alone."""

    def over(a: str, b: str, metric: str = "median_ms") -> float | None:
        return ratio(results.get(a, {}).get(metric), results.get(b, {}).get(metric))

    return [
        ("nearby venues endpoint / raw SQL, median c=8", over("venues_c8", "venues_sql_c8")),
        (
            "raw SQL / endpoint, throughput c=8",
            over("venues_sql_c8", "venues_c8", "throughput_rps"),
        ),
        ("nearby contacts / nearby venues, median c=8", over("contacts_c8", "venues_c8")),
        ("nearby events / nearby venues, median c=8", over("events_c8", "venues_c8")),
        ("footfall 30 days raw SQL / rollup SQL (alone)", over("ff30_raw_sql", "ff30_sql")),
        ("footfall 365 days raw SQL / rollup SQL (alone)", over("ff365_raw_sql", "ff365_sql")),
    ]


def print_notes(found: list[tuple[str, float | None]]) -> None:
    """The explaining ratios."""
    for label, value in found:
        print(f"{label:52}{_num(value):>11}")


def print_goals(verdicts: list[dict]) -> None:
    """The goals as a small table."""
    print(f"\n{'goal':52}{'measured':>11}{'target':>10}  verdict")
    for v in verdicts:
        print(f"{v['goal']:52}{_num(v['measured']):>11}{v['target']:>10}  {v['verdict']}")


def print_cpu(rounds: list[dict]) -> None:
    """CPU milliseconds per check-in (and cores used) by process group, per round."""
    kinds = ("api", "postgres", "load clients", "other", "machine busy")
    print(
        f"\n{'CPU ms per check-in (cores used)':34}"
        + "".join(f"{k if k != 'load clients' else 'wrk':>16}" for k in kinds)
        + f"{'buffer hits':>12}{'reads':>7}"
    )
    for index, r in enumerate(rounds, 1):
        machine_use = r.get("machine", {})
        per = machine_use.get("cpu_ms_per_request")
        if not per:
            continue
        cores = machine_use["cpu_cores_used"]
        cells = "".join(f"{per[k]:>9.2f} ({cores[k]:.2f})" for k in kinds)
        buffers = machine_use["buffers_per_request"]
        label = f"round {index}: {r['throughput_rps']:.0f}/s"
        print(f"{label:34}{cells}{buffers['hits']:>12.0f}{buffers['reads']:>7.0f}")
    print(
        "(api: the gunicorn master and workers; postgres: the bench database's backends and"
        " the server's own processes; wrk: the load generator; other: the rest of the"
        " machine's busy time, this script's sampling included)"
    )
