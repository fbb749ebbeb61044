"""Where a check-in's time goes: run check-ins in-process, time every statement at the
cursor and sample the stack, charging both to the service functions they ran under.

The app is built in this process (``create_app``) on the bench database and check-ins go
through Flask's test client, one after the other, so the request runs exactly as under
gunicorn minus HTTP. Nothing in ``service/`` is patched or named: ``sql_trace`` times
each statement (and COMMIT) at the cursor and finds its call site on the stack (the
innermost ``service/`` frame, ``module:function``, and the service frames around it), and
a sampler thread reads the request thread's stack every ``SAMPLE_S`` to charge wall time
to every service function on it. So the report follows the code whatever it is called:

- per service function: wall ms per check-in (sampled, inclusive), SQL ms and statements
  per check-in run under it (inclusive), and SQL ms at it as the innermost site;
- per statement (its text as sent): calls and ms per check-in, mean ms, call site;
- the slowest SELECTs again with the parameters they last had under ``EXPLAIN
  (ANALYZE, BUFFERS)`` (``jit = off``, as the API's connections; the median of 3, warm),
  each in a transaction that is rolled back.
"""

import re
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import timedelta

import psycopg
import sql_trace
from seeding import ROOT

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PATH = "/api/v1/checkins"
EXPLAIN_RUNS = 3  # the median of these is reported
SAMPLE_S = 0.0005  # the sampler's period (and the interpreter's switch interval meanwhile)
TOP_FUNCTIONS = 25
TOP_STATEMENTS = 15


class Sampler:
    """Samples one thread's stack; wall seconds per service function on it (inclusive)."""

    def __init__(self, thread_id: int):
        self.thread_id = thread_id
        self.inclusive: Counter = Counter()
        self.active = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._switch = sys.getswitchinterval()
        sys.setswitchinterval(SAMPLE_S)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        sys.setswitchinterval(self._switch)

    def _run(self) -> None:
        last = time.perf_counter()
        while not self._stop.wait(SAMPLE_S):
            now = time.perf_counter()
            frame = sys._current_frames().get(self.thread_id)
            if self.active and frame is not None:
                for site in set(_sites(frame)):
                    self.inclusive[site] += now - last
            last = now


def _sites(frame) -> list[str]:
    found = []
    while frame is not None:
        path = frame.f_code.co_filename
        if path.startswith(sql_trace.SERVICE):
            found.append(f"{path[len(sql_trace.SERVICE) : -3].replace('/', '.')}:"
                         f"{frame.f_code.co_name}")  # fmt: skip
        frame = frame.f_back
    return found


def _short(sql: str, width: int = 110) -> str:
    text = re.sub(r"\s+", " ", sql).strip()
    return text if len(text) <= width else text[: width - 3] + "..."


def profile(database_url: str, jobs: list[tuple[int, str]], explain_top: int = 8) -> dict:
    """Run ``jobs`` (``(user_id, body)``) in-process; per-function and per-statement
    timings, and the slowest SELECTs explained."""
    from flask_jwt_extended import create_access_token

    from service import create_app
    from service.database import Database

    app = create_app(
        {
            "DATABASE_URL": database_url,
            "JWT_SECRET_KEY": "bench-profile-" + "x" * 32,
            "JWT_ACCESS_TOKEN_EXPIRES": timedelta(hours=2),
        }
    )
    engine = Database.state(app).engine
    with app.app_context():
        tokens = {user_id: create_access_token(identity=str(user_id)) for user_id, _ in jobs}
    client = app.test_client()
    client.get("/readyz")  # the engine's first connection (dialect set-up) outside the profile
    walls, statuses, eligible, statements = [], Counter(), 0, []
    with sql_trace.Trace(engine) as trace, Sampler(threading.get_ident()) as sampler:
        for user_id, body in jobs:
            headers = {"Authorization": f"Bearer {tokens[user_id]}"}
            sampler.active = True
            started = time.perf_counter()
            response = client.post(
                PATH, data=body, headers=headers, content_type="application/json"
            )
            walls.append(time.perf_counter() - started)
            sampler.active = False
            statuses[response.status_code] += 1
            if response.status_code == 201 and response.get_json()["rewards"]["eligible"]:
                eligible += 1
            statements += trace.take()
    engine.dispose()
    count = max(1, len(walls))
    per = 1000 / count
    executed = [s for s in statements if s.sql != sql_trace.ROLLBACK]
    report = {
        "checkins": len(walls),
        "statuses": {str(k): v for k, v in statuses.items()},
        "eligible": eligible,
        "wall_median_ms": round(statistics.median(walls) * 1000, 2) if walls else None,
        "wall_mean_ms": round(statistics.fmean(walls) * 1000, 2) if walls else None,
        "sql_mean_ms": round(sum(s.seconds for s in executed) * per, 2),
        "statements_per_checkin": round(sum(_runs(s) for s in executed if not s.marker) / count, 1),
        "stages": _functions(executed, sampler.inclusive, count),
    }
    by_text: dict[str, dict] = {}
    for entry in executed:
        item = by_text.setdefault(
            entry.sql, {"calls": 0, "seconds": 0.0, "sites": Counter(), "params": None}
        )
        item["calls"] += _runs(entry)
        item["seconds"] += entry.seconds
        item["sites"][entry.site] += 1
        if not entry.many:
            item["params"] = entry.params
    ranked = sorted(by_text.items(), key=lambda item: -item[1]["seconds"])
    for _, item in ranked:
        item["stage"] = item["sites"].most_common(1)[0][0]
    report["statements"] = [
        {
            "sql": _short(text),
            "stage": item["stage"],
            "calls_per_checkin": round(item["calls"] / count, 2),
            "mean_ms": round(item["seconds"] * 1000 / item["calls"], 3),
            "per_checkin_ms": round(item["seconds"] * per, 3),
        }
        for text, item in ranked[:TOP_STATEMENTS]
    ]
    report["explain"] = _explain(database_url, ranked, explain_top)
    return report


def _runs(entry: sql_trace.Statement) -> int:
    """Executions of one cursor call (an executemany runs once per parameter set)."""
    return len(entry.params) if entry.many and isinstance(entry.params, list) else 1


def _functions(executed: list, sampled: Counter, count: int) -> list[dict]:
    """Per service function: sampled wall ms (inclusive), SQL ms and statements under it
    (inclusive) and SQL ms with it as the innermost site, per check-in."""
    sql, calls, own = defaultdict(float), Counter(), defaultdict(float)
    for entry in executed:
        own[entry.site] += entry.seconds
        for site in set(entry.sites):
            sql[site] += entry.seconds
            calls[site] += _runs(entry)
    per = 1000 / count
    names = sorted(set(sampled) | set(sql), key=lambda k: -(sampled.get(k, 0.0) or sql[k]))
    return [
        {
            "stage": name,
            "calls_per_checkin": round(calls[name] / count, 2),
            "wall_mean_ms": round(sampled.get(name, 0.0) * per, 3),
            "sql_mean_ms": round(sql[name] * per, 3),
            "own_sql_mean_ms": round(own[name] * per, 3),
        }
        for name in names[:TOP_FUNCTIONS]
    ]


def print_report(report: dict) -> None:
    """The functions, statements and plans of an in-process profile."""
    print(
        f"\nin-process profile: {report['checkins']} check-ins one at a time"
        f" ({report['eligible']} eligible), median {report['wall_median_ms']} ms, mean"
        f" {report['wall_mean_ms']} ms of which SQL {report['sql_mean_ms']} ms"
        f" ({report['statements_per_checkin']} statements per check-in)"
    )
    print(
        f"{'service function (per check-in, inclusive)':58}{'wall ms':>9}{'SQL ms':>8}"
        f"{'stmts':>7}{'own SQL':>9}"
    )
    for item in report["stages"]:
        print(
            f"{item['stage'][:58]:58}{item['wall_mean_ms']:>9.3f}{item['sql_mean_ms']:>8.3f}"
            f"{item['calls_per_checkin']:>7.2f}{item['own_sql_mean_ms']:>9.3f}"
        )
    print("(wall: sampled stacks; SQL: statements timed at the cursor, COMMIT included)")
    print("\nslowest statements (ms per check-in, calls per check-in, mean ms, call site):")
    for item in report["statements"][:10]:
        print(
            f"  {item['per_checkin_ms']:7.3f} {item['calls_per_checkin']:5.2f}"
            f" {item['mean_ms']:7.3f}  [{item['stage']}] {item['sql'][:90]}"
        )
    if report["explain"]:
        print("\nEXPLAIN ANALYZE (last parameters): execution ms, planning ms, site, query")
        for item in report["explain"]:
            if "error" in item:
                print(f"  error {item['error']}: {item['sql'][:80]}")
                continue
            print(
                f"  {item['execution_ms']:7.3f} {item['planning_ms']:6.3f}"
                f"  [{item['stage']}] {item['sql'][:90]}"
            )


def _explain(database_url: str, ranked: list, top: int) -> list[dict]:
    """EXPLAIN ANALYZE the slowest plain SELECTs again with their last parameters (the
    median of three runs, on a connection whose PostGIS is already loaded)."""
    from seeding import libpq_conninfo

    found = []
    with psycopg.connect(libpq_conninfo(database_url)) as conn:
        conn.execute("SET jit = off")
        conn.execute("SET timezone = 'UTC'")
        # The first PostGIS call of a connection loads the library and its caches.
        conn.execute("SELECT ST_Distance('POINT(0 0)'::geography, 'POINT(1 1)'::geography)")
        conn.rollback()
        for text, entry in ranked:
            if len(found) >= top:
                break
            head = text.lstrip().upper()
            if not head.startswith("SELECT") or "PG_ADVISORY" in head or entry["params"] is None:
                continue
            plans = []
            try:
                for _ in range(EXPLAIN_RUNS):
                    plans.append(
                        conn.execute(
                            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + text, entry["params"]
                        ).fetchone()[0][0]
                    )
                    conn.rollback()
            except psycopg.Error as exc:
                conn.rollback()
                found.append({"sql": _short(text), "error": repr(exc)[:200]})
                continue
            plans.sort(key=lambda plan: plan["Execution Time"])
            plan = plans[len(plans) // 2]
            root = plan["Plan"]
            found.append(
                {
                    "sql": _short(text),
                    "stage": entry["stage"],
                    "live_mean_ms": round(entry["seconds"] * 1000 / entry["calls"], 3),
                    "execution_ms": round(plan["Execution Time"], 3),
                    "planning_ms": round(plan["Planning Time"], 3),
                    "top_node": root["Node Type"],
                    "rows": root.get("Actual Rows"),
                    "shared_hit": root.get("Shared Hit Blocks"),
                    "shared_read": root.get("Shared Read Blocks"),
                    "nodes": _nodes(root),
                }
            )
    return found


def _nodes(node: dict, depth: int = 0) -> list[str]:
    """The plan, one line per node: type, relation/index, actual rows x loops, time."""
    label = node["Node Type"]
    if node.get("Index Name"):
        label += f" using {node['Index Name']}"
    elif node.get("Relation Name"):
        label += f" on {node['Relation Name']}"
    line = (
        f"{'  ' * depth}{label} rows={node.get('Actual Rows')} loops={node.get('Actual Loops')}"
        f" time={node.get('Actual Total Time')} ms"
    )
    lines = [line]
    for child in node.get("Plans", []):
        lines += _nodes(child, depth + 1)
    return lines


def world_url() -> str:
    """The seeded world's database (``BENCH_SCALE_DATABASE_URL``, else the scale world)."""
    import os

    return os.environ.get(
        "BENCH_SCALE_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/irl_bench_scale"
    )


def seeded_jobs(url: str, count: int, seed: int | None) -> list[tuple[int, str]]:
    """``(user_id, body)`` of eligible check-ins by random seeded users
    (``bench_checkins_plan``), each at one of the venues near their home."""
    import json
    import random

    import checkin_seeding
    from seeding import libpq_conninfo

    with psycopg.connect(libpq_conninfo(url)) as conn:
        plan = checkin_seeding.plan_rows(conn)
    random.Random(seed).shuffle(plan)
    return [
        (
            user_id,
            json.dumps({"venue_id": v, "location": {"lat": lat, "lon": lon}, "accuracy_m": 20}),
        )
        for user_id, ((v, lat, lon), *_), _nearby in plan[:count]
    ]


def main() -> None:
    """Profile eligible check-ins of random seeded users (``bench_checkins_plan``) on an
    existing world (the scale world by default) and print where their time goes."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--checkins", type=int, default=200, help="check-ins to profile")
    parser.add_argument("--explain", type=int, default=6, help="slowest SELECTs to explain")
    parser.add_argument("--seed", type=int, default=None, help="which users (default: random)")
    args = parser.parse_args()
    url = world_url()
    report = profile(url, seeded_jobs(url, args.checkins, args.seed), args.explain)
    print(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
