"""EXPLAIN ANALYZE of every SELECT the hot paths send, custom and generic (README)."""

import re
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import timedelta

import psycopg

from bench.harness import sql
from bench.harness.seed.venues import TIMEZONE
from bench.phases import reads
from bench.phases.footfall import today
from bench.phases.run import Run

PLAN_KEYS = ("Node Type", "Relation Name", "Index Name")


@dataclass
class Plan:
    """One statement's plans over its samples (medians of times, means of the rest)."""

    statement: str  # what sent it, and its innermost service call site
    samples: int
    execution_ms: float
    planning_ms: float
    rows: float
    shared_hit: float
    shared_read: float
    scans: list[str]
    generic: dict  # the generic plan of the first sample
    sql: str


def _statements(run: Run, jobs: list) -> dict[tuple[str, str, str], list]:
    """Collect ``(what, site, sql) -> [Statement, ...]`` of every SELECT the hot paths send."""
    from service.database import db
    from service.footfall import from_raw, from_rollup
    from service.footfall.grid import make_range

    process, sent, samples = sql.InProcess(run.app), [], run.args.explain_samples
    for name in reads.ENDPOINTS:
        for (lat, lon), viewer in list(zip(run.points, run.viewers, strict=True))[:samples]:
            where = reads.path(name, lat, lon, run.args)
            sent += [(name, entry) for entry in process.send(viewer, "GET", where).statements]
    for user_id, body in jobs:
        sent += [
            ("checkin", s)
            for s in process.send(user_id, "POST", "/api/v1/checkins", body).statements
        ]
    process.close()
    span = make_range(today() - timedelta(days=364), today(), TIMEZONE, "day")
    for name, reader in (("footfall rollup", from_rollup), ("footfall raw", from_raw)):
        done = sql.capture(run.app, lambda r=reader: r.figures(db.session, run.busy, span))
        sent += [(name, entry) for entry in done]
    found = defaultdict(list)
    for what, entry in sent:
        if entry.select:
            found[(what, entry.site, entry.sql)].append(entry)
    return found


def measure(run: Run, jobs: list) -> list[dict]:
    """Explain each statement over its samples (each run twice: the warm one is kept)."""
    print("plans of the service's statements ...", flush=True)
    found = []
    with psycopg.connect(run.conninfo, options=run.options, prepare_threshold=None) as conn:
        for (what, site, text), sent in _statements(run, jobs).items():
            runs = []
            for entry in sent[: run.args.explain_samples]:
                explain(conn, entry.sql, entry.params)
                runs.append(explain(conn, entry.sql, entry.params))
                conn.rollback()
            try:
                generic = generic_plan(conn, text, sent[0].params)
            except psycopg.Error as exc:
                generic = {"error": str(exc).splitlines()[0]}
            conn.rollback()
            times = [statistics.median(r[k] for r in runs) for k in ("execution_ms", "planning_ms")]
            means = [
                statistics.fmean(r[k] for r in runs) for k in ("rows", "shared_hit", "shared_read")
            ]
            scans = sorted({scan for r in runs for scan in r["scans"]})
            found.append(Plan(f"{what}: {site}", len(runs), *times, *means, scans, generic, text))
    return [asdict(plan) for plan in sorted(found, key=lambda plan: -plan.execution_ms)]


def show(found: list[dict]) -> None:
    """Print the plans, one line each: times, rows, buffers, the generic plan, scans."""
    print(
        f"\n{'plans (EXPLAIN ANALYZE, warm)':60}{'n':>4}{'exec ms':>9}{'plan ms':>9}"
        f"{'rows':>7}{'hits':>8}{'reads':>7}{'generic':>9}  scans"
    )
    for p in (Plan(**plan) for plan in found):
        generic = p.generic.get("execution_ms")
        print(
            f"{p.statement[:59]:60}{p.samples:>4}{p.execution_ms:>9.3f}{p.planning_ms:>9.3f}"
            f"{p.rows:>7.1f}{p.shared_hit:>8.0f}{p.shared_read:>7.0f}"
            f"{'-' if generic is None else f'{generic:.3f}':>9}  {'; '.join(p.scans)[:120]}"
        )


def explain(conn: psycopg.Connection, text: str, params: dict) -> dict:
    """Run one ``EXPLAIN (ANALYZE, BUFFERS)`` of the custom plan: times, rows, buffers, scans."""
    (plan,) = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {text}", params).fetchone()[0]
    return _summary(plan)


def generic_plan(conn: psycopg.Connection, text: str, params: dict) -> dict:
    """Explain the generic plan a prepared statement may switch to (rolled back after)."""
    names: list[str] = []

    def number(match: re.Match) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    body = sql.PARAM.sub(number, text).replace("%%", "%")
    types = ", ".join(_type(conn, params[name]) for name in names)  # as psycopg sends them
    conn.execute("DEALLOCATE ALL")  # PREPARE outlives a rollback (psycopg prepares none here)
    conn.execute(f"PREPARE bench_plan{f' ({types})' if names else ''} AS {body}")
    conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    values = ", ".join(["%s"] * len(names))
    query = f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE bench_plan({values})"
    client = psycopg.ClientCursor(conn)
    return _summary(client.execute(query, [params[name] for name in names]).fetchone()[0][0])


def _type(conn: psycopg.Connection, value) -> str:
    """Name the type psycopg binds ``value`` as (``unknown``: the server infers it)."""
    oid = psycopg.adapt.Transformer(conn).get_dumper(value, psycopg.adapt.PyFormat.AUTO).oid
    if (info := conn.adapters.types.get(oid)) is None:
        return "unknown"
    return f"{info.regtype}[]" if oid == info.array_oid else info.regtype


def _summary(plan: dict) -> dict:
    """What matters of one JSON plan: times, rows, buffers, and how each table is read."""
    nodes, todo = [], [plan["Plan"]]
    while todo:
        node = todo.pop()
        nodes.append(node)
        todo += node.get("Plans", ())
    top = plan["Plan"]
    scans = [
        " ".join(f"{node[key]}" for key in PLAN_KEYS if key in node)
        for node in nodes
        if "Scan" in node["Node Type"]
    ]
    return {
        "execution_ms": plan["Execution Time"],
        "planning_ms": plan.get("Planning Time", 0.0),
        "rows": top["Actual Rows"],
        "shared_hit": top.get("Shared Hit Blocks", 0),
        "shared_read": top.get("Shared Read Blocks", 0),
        "scans": sorted(set(scans)),
    }
