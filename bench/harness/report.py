"""Reporting: medians, ratios, the table, goals, the machine, the code, other processes."""

import os
import platform
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench.harness.database import ROOT
from bench.harness.monitor import processes

METRICS = ("median_ms", "p99_ms", "throughput_rps")
BUSY_MARKERS = ("bench/", "gunicorn", "pytest", "wrk", "pgbench")


@dataclass(frozen=True)
class Goal:
    """A target on one measured row: ``key``'s ``metric`` (over ``under``'s, if given)."""

    issue: int | None
    label: str
    key: str
    metric: str
    sense: str  # "<=" or ">="
    target: float
    under: tuple[str, str] | None = None  # (key, metric) of the denominator


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator to 2 decimals, None without both."""
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 2)


def num(value: float | None, digits: int = 2) -> str:
    """A figure for a table: thousands separated, ``-`` for none."""
    return "-" if value is None else f"{value:,.{digits}f}"


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


def per_request(rounds: list[dict], section: str, kinds: tuple[str, ...]) -> float | None:
    """Take the median over rounds of a monitor figure per request, summed over ``kinds``."""
    values = []
    for r in rounds:
        per = r.get("machine", {}).get(section) or {}
        if all(per.get(kind) is not None for kind in kinds):
            values.append(sum(per[kind] for kind in kinds))
    return round(statistics.median(values), 2) if values else None


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
            f"{label:52}{concurrency:>3}{num(r.get('median_ms')):>11}{num(r.get('p99_ms')):>10}"
            f"{num(r.get('throughput_rps'), 0):>9}{spread_text:>21}{r.get('requests', 0):>10}"
            f"{r.get('errors', 0):>8}"
        )


def judge(results: dict, goals: list[Goal]) -> list[dict]:
    """Each goal with what was measured and PASS / FAIL (n/a when not measured)."""
    verdicts = []
    for goal in goals:
        value = results.get(goal.key, {}).get(goal.metric)
        if goal.under is not None:
            value = ratio(value, results.get(goal.under[0], {}).get(goal.under[1]))
        met = value is not None and (
            value <= goal.target if goal.sense == "<=" else value >= goal.target
        )
        verdict = "PASS" if met else "FAIL" if value is not None else "n/a"
        keys = {goal.key, goal.under[0] if goal.under else goal.key}
        errors = sum(results.get(k, {}).get("errors", 0) for k in keys)
        if errors:
            verdict += f" ({errors} failed requests in the rows measured)"
        target = f"{goal.sense} {goal.target:g}"
        verdicts.append(dict(issue=goal.issue, goal=goal.label, measured=value, target=target))
        verdicts[-1]["verdict"] = verdict
    return verdicts


def print_goals(verdicts: list[dict]) -> None:
    """The goals as a small table, grouped by issue in their order."""
    shown = "none yet"
    for v in verdicts:
        if v["issue"] != shown:
            shown = v["issue"]
            title = f"goal (issue {shown})" if shown else "goal (earlier issues)"
            print(f"\n{title:52}{'measured':>11}{'target':>10}  verdict")
        print(f"{v['goal']:52}{num(v['measured']):>11}{v['target']:>10}  {v['verdict']}")


def print_notes(found: list[tuple[str, float | None]]) -> None:
    """Ratios that explain the goals."""
    print(f"\n{'ratios that explain the goals':52}{'measured':>11}")
    for label, value in found:
        print(f"{label:52}{num(value):>11}")


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
    found = {"cpus": os.cpu_count(), "ram_gb": round(int(memory) / 2**20, 1)}
    found.update(os=platform.platform(), python=platform.python_version())
    return {**found, "postgres": versions[0], "postgis": versions[1], "pg_settings": settings}


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


def competitors() -> list[str]:
    """List other benchmarks, servers or tests running (not this run's processes)."""
    parents = {pid: (ppid, command) for pid, ppid, _, command, _ in processes()}
    mine, pid = set(), os.getpid()
    while pid > 1 and pid in parents:  # this process and its ancestors
        mine.add(pid)
        pid = parents[pid][0]
    grown = True
    while grown:  # ... and its descendants
        children = {p for p, (parent, _) in parents.items() if parent in mine} - mine
        grown = bool(children)
        mine |= children
    return [
        f"{pid}: {command[:120]}"
        for pid, (_, command) in sorted(parents.items())
        if pid not in mine and any(marker in command for marker in BUSY_MARKERS)
    ]
