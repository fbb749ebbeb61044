"""Where a check-in's time goes: run check-ins in-process and time each stage and query.

The app is built in this process (``create_app``) on the bench database and check-ins
go through Flask's test client, one after the other, so the request runs exactly as
under gunicorn minus HTTP. Wrappers time the stages of ``checkins.service.check_in``
(pair locks, eligibility measures, points and mayorship, meeting detection, badges and
each badge rule kind, commit) and SQLAlchemy's cursor events time every statement,
charged to the innermost stage running. The slowest SELECTs are then run again with
the parameters they last had under ``EXPLAIN (ANALYZE, BUFFERS)`` (``jit = off``, as
the API's connections), inside a transaction that is rolled back.
"""

import re
import statistics
import sys
import time
from collections import defaultdict
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from functools import wraps
from unittest import mock

import psycopg
from seeding import ROOT

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask_jwt_extended import create_access_token
from sqlalchemy import event
from sqlalchemy.orm import Session

from service import create_app
from service.checkins import service as checkin_service
from service.contacts import pairs
from service.database import Database
from service.rewards import award, badges, rules

PATH = "/api/v1/checkins"
EXPLAIN_RUNS = 3  # the median of these is reported


class Stages:
    """Inclusive wall time per stage path (``badges/rule:crowd``) and SQL time charged to
    the innermost stage running when the statement ran."""

    def __init__(self):
        self.stack: list[str] = []
        self.wall = defaultdict(float)
        self.calls = defaultdict(int)
        self.sql = defaultdict(float)
        self.statements: dict[str, dict] = {}

    def path(self) -> str:
        return "/".join(self.stack) or "request (outside the stages)"

    @contextmanager
    def stage(self, name: str):
        self.stack.append(name)
        key = self.path()
        started = time.perf_counter()
        try:
            yield
        finally:
            self.wall[key] += time.perf_counter() - started
            self.calls[key] += 1
            self.stack.pop()

    def wrap(self, name: str, function):
        @wraps(function)
        def timed(*args, **kwargs):
            with self.stage(name):
                return function(*args, **kwargs)

        return timed

    def statement(self, text: str, params, seconds: float) -> None:
        key = self.path()
        self.sql[key] += seconds
        entry = self.statements.setdefault(
            text, {"calls": 0, "seconds": 0.0, "stage": key, "params": None}
        )
        entry["calls"] += 1
        entry["seconds"] += seconds
        entry["params"] = params


def _patches(stages: Stages) -> list:
    """Every wrapper, as ``mock.patch`` objects (undone when the profile ends)."""
    targets = [
        (pairs, "mutual_contact_ids", "pair locks"),
        (pairs, "lock_pairs", "pair locks"),
        (checkin_service, "_lock_user", "lock user"),
        (checkin_service, "_enforce_rate", "rate limit"),
        (checkin_service, "measure", "eligibility measures"),
        (award, "checkin_rewards", "points, visits, mayorship"),
        (award, "_mayorship", "mayorship"),
        (award, "_first_today", "first check-in today"),
        (award, "streak", "streak"),
        (checkin_service, "detect", "meeting detection"),
        (badges, "for_checkin", "badges"),
        (badges, "crowd_for_others", "crowd for others"),
        (Session, "commit", "commit"),
    ]
    found = [
        mock.patch.object(owner, name, stages.wrap(label, getattr(owner, name)))
        for owner, name, label in targets
    ]
    wrapped_rules = {kind: stages.wrap(f"rule:{kind}", rule) for kind, rule in rules.RULES.items()}
    found.append(mock.patch.dict(rules.RULES, wrapped_rules))
    return found


def _short(sql: str, width: int = 110) -> str:
    text = re.sub(r"\s+", " ", sql).strip()
    return text if len(text) <= width else text[: width - 3] + "..."


def profile(database_url: str, jobs: list[tuple[int, str]], explain_top: int = 8) -> dict:
    """Run ``jobs`` (``(user_id, body)``) in-process; stage and statement timings."""
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "JWT_SECRET_KEY": "bench-profile-" + "x" * 32,
            "JWT_ACCESS_TOKEN_EXPIRES": timedelta(hours=2),
        }
    )
    engine = Database.state(app).engine
    stages = Stages()

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        seconds = time.perf_counter() - conn.info["bench_started"].pop()
        stages.statement(statement, None if executemany else parameters, seconds)

    with app.app_context():
        tokens = {user_id: create_access_token(identity=str(user_id)) for user_id, _ in jobs}
    client = app.test_client()
    walls, statuses, eligible = [], defaultdict(int), 0
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        with ExitStack() as stack:
            for patch in _patches(stages):
                stack.enter_context(patch)
            for user_id, body in jobs:
                headers = {"Authorization": f"Bearer {tokens[user_id]}"}
                started = time.perf_counter()
                response = client.post(
                    PATH, data=body, headers=headers, content_type="application/json"
                )
                walls.append(time.perf_counter() - started)
                statuses[response.status_code] += 1
                if response.status_code == 201 and response.get_json()["rewards"]["eligible"]:
                    eligible += 1
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    count = max(1, len(walls))
    per = 1000 / count
    sql_total = sum(stages.sql.values())
    report = {
        "checkins": len(walls),
        "statuses": {str(k): v for k, v in statuses.items()},
        "eligible": eligible,
        "wall_median_ms": round(statistics.median(walls) * 1000, 2) if walls else None,
        "wall_mean_ms": round(statistics.fmean(walls) * 1000, 2) if walls else None,
        "sql_mean_ms": round(sql_total * per, 2),
        "statements_per_checkin": round(
            sum(s["calls"] for s in stages.statements.values()) / count, 1
        ),
        "stages": [
            {
                "stage": key,
                "calls_per_checkin": round(stages.calls[key] / count, 2),
                "wall_mean_ms": round(stages.wall[key] * per, 3),
                "sql_mean_ms": round(stages.sql.get(key, 0.0) * per, 3),
            }
            for key in sorted(stages.wall, key=lambda k: -stages.wall[k])
        ],
        "outside_stages_sql_mean_ms": round(
            stages.sql.get("request (outside the stages)", 0.0) * per, 3
        ),
    }
    ranked = sorted(stages.statements.items(), key=lambda item: -item[1]["seconds"])
    report["statements"] = [
        {
            "sql": _short(text),
            "stage": entry["stage"],
            "calls_per_checkin": round(entry["calls"] / count, 2),
            "mean_ms": round(entry["seconds"] * 1000 / entry["calls"], 3),
            "per_checkin_ms": round(entry["seconds"] * per, 3),
        }
        for text, entry in ranked[:15]
    ]
    report["explain"] = _explain(database_url, ranked, explain_top)
    engine.dispose()
    return report


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
