"""The machine, the code and the results table of ``scale.py``: medians of the rounds,
the goals with PASS / FAIL (issue 18's first), and the CPU accounting of the check-ins
(``scale_summary`` puts them together)."""

import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

import psycopg
from seeding import ROOT

METRICS = ("median_ms", "p99_ms", "throughput_rps")
BUSY_MARKERS = ("bench/", "gunicorn", "pytest", "wrk", "pgbench")
READS = ("venues", "venues_sql", "contacts", "events")
FOOTFALL = {"ff30": (30, None), "ff30_raw": (30, "UTC"), "ff365": (365, None)}
FOOTFALL["ff365_raw"] = (365, "UTC")
FOOTFALL_SQL = tuple(f"{name}_sql" for name in FOOTFALL)
LABELS = {
    "venues": "nearby venues GET /venues/nearby (wrk)",
    "venues_sql": "nearby venues, the service's SQL alone (pgbench)",
    "contacts": "nearby contacts GET /nearby/contacts (wrk)",
    "events": "nearby events GET /events/nearby (wrk)",
    "checkins": "check-ins POST /checkins, distinct users (wrk)",
    "checkins_sql": "check-ins, their own SQL replayed (pgbench)",
    "ff30": "footfall 30 days, rollup (wrk)",
    "ff30_raw": "footfall 30 days, raw check-ins &tz=UTC (wrk)",
    "ff365": "footfall 365 days, rollup (wrk)",
    "ff365_raw": "footfall 365 days, raw check-ins &tz=UTC (wrk)",
    "ff30_sql": "footfall 30 days, the rollup's SQL alone (pgbench)",
    "ff30_raw_sql": "footfall 30 days, the raw SQL alone (pgbench)",
    "ff365_sql": "footfall 365 days, the rollup's SQL alone (pgbench)",
    "ff365_raw_sql": "footfall 365 days, the raw SQL alone (pgbench)",
}
OTHER_CORES_WARNING = 0.2  # "other" CPU during check-ins beyond this: not a clean measurement
OTHERS_SEEN: list[dict] = []  # other benchmarks / tests found running at a phase's start


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


def note_others(where: str) -> None:
    """Remember any other benchmark, server or test run found running now."""
    found = competitors()
    if found:
        OTHERS_SEEN.append({"phase": where, "at": time.time(), "processes": found})


def venues_of(label: str) -> float:
    """A scale curve label's venues: 100k -> 100000."""
    number, unit = label[:-1], label[-1]
    return float(number) * {"k": 1e3, "m": 1e6}.get(unit, 1) if unit in "km" else float(label)


def cpu_ms(rounds: list[dict], kinds: tuple[str, ...]) -> float | None:
    """CPU milliseconds per request of these kinds of processes: the median of rounds."""
    values = []
    for r in rounds:
        per = r.get("machine", {}).get("cpu_ms_per_request") or {}
        if all(per.get(kind) is not None for kind in kinds):
            values.append(sum(per[kind] for kind in kinds))
    return round(statistics.median(values), 2) if values else None


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
            f"{label:52}{concurrency:>3}{num(r.get('median_ms')):>11}{num(r.get('p99_ms')):>10}"
            f"{num(r.get('throughput_rps'), 0):>9}{spread_text:>21}{r.get('requests', 0):>10}"
            f"{r.get('errors', 0):>8}"
        )


def num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def goals(results: dict, curve: tuple[str, str] | None) -> list[dict]:
    """The goals, each with what was measured and PASS / FAIL: issue 18's targets first
    (in its order), then the earlier issues'; ``curve``: the smallest and the largest
    database of the scale curve (labels)."""
    small, large = curve or ("", "")
    med, rps = "median_ms", "throughput_rps"
    # (issue, goal, result key, metric, divided by (key, metric) or None, sense, target)
    specs = [
        (18, "check-ins per second, c=8", "checkins", rps, None, ">=", 150.0),
        (18, "machine CPU ms per check-in (API + PostgreSQL)", "checkins",
         "cpu_ms_api_postgres", None, "<=", 12.0),
        (18, "check-ins/s endpoint / its SQL replayed, c=8", "checkins", rps,
         ("checkins_sql", rps), ">=", 0.33),
        (18, "check-ins p99 / median, c=8", "checkins", "p99_ms", ("checkins", med), "<=", 5.0),
        (18, "nearby venues endpoint / its SQL, median c=1", "venues_c1", med,
         ("venues_sql_c1", med), "<=", 3.0),
        (18, "nearby contacts / nearby venues, median c=1", "contacts_c1", med,
         ("venues_c1", med), "<=", 2.0),
        (18, "nearby events / nearby venues, median c=1", "events_c1", med,
         ("venues_c1", med), "<=", 2.0),
        (None, "footfall 30 days (rollup) median ms", "ff30", med, None, "<=", 50.0),
        (None, "footfall 365 days (rollup) median ms", "ff365", med, None, "<=", 50.0),
        (None, "footfall 30 days raw / rollup, median", "ff30_raw", med, ("ff30", med), ">=",
         10.0),
        (None, "footfall 365 days raw / rollup, median", "ff365_raw", med, ("ff365", med),
         ">=", 10.0),
    ]  # fmt: skip
    if curve:
        specs.append((None, f"nearby venues {large} / {small} venues, median c=1",
                      f"curve_{large}", med, (f"curve_{small}", med), "<=", 1.5))  # fmt: skip
    verdicts = []
    for issue, label, key, metric, under, sense, target in specs:
        value = results.get(key, {}).get(metric)
        if under is not None:
            value = ratio(value, results.get(under[0], {}).get(under[1]))
        met = value is not None and (value <= target if sense == "<=" else value >= target)
        verdict = "PASS" if met else "FAIL" if value is not None else "n/a"
        errors = sum(results.get(k, {}).get("errors", 0) for k in {key, under and under[0]} if k)
        if errors:
            verdict += f" ({errors} failed requests in the rows measured)"
        verdicts.append(
            {
                "issue": issue,
                "goal": label,
                "measured": value,
                "target": f"{sense} {target:g}",
                "verdict": verdict,
            }
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
    print(f"\n{'ratios that explain the goals':52}{'measured':>11}")
    for label, value in found:
        print(f"{label:52}{num(value):>11}")


def print_goals(verdicts: list[dict]) -> None:
    """The goals as a small table, issue 18's first."""
    shown = "none yet"
    for v in verdicts:
        if v["issue"] != shown:
            shown = v["issue"]
            title = f"goal (issue {shown})" if shown else "goal (earlier issues)"
            print(f"\n{title:52}{'measured':>11}{'target':>10}  verdict")
        print(f"{v['goal']:52}{num(v['measured']):>11}{v['target']:>10}  {v['verdict']}")


def print_cpu(rounds: list[dict], title: str, client: str) -> None:
    """CPU milliseconds per check-in (and cores used) by process group, per round;
    ``client``: what the load clients are (wrk, pgbench)."""
    kinds = ("api", "postgres", "load clients", "other", "machine busy")
    print(
        f"\n{title:34}"
        + "".join(f"{k if k != 'load clients' else client:>16}" for k in kinds)
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


def print_cpu_legend() -> None:
    print(
        "(api: the gunicorn master and workers; postgres: the bench database's backends and"
        " the server's own processes; wrk / pgbench: the load generator; other: the rest of"
        " the machine's busy time, this script's sampling included)"
    )
