"""The service's own SQL for nearby contacts and meeting detection, to EXPLAIN ANALYZE.

The statements are built by the service code itself (``presence.service.nearby_contacts``
and ``meetings.detect._candidates``) handed a session stand-in that records the
statement instead of running it, so the benchmark explains exactly what the API sends,
never a hand-copied variant that could drift. Each is then compiled for psycopg and run
under ``EXPLAIN (ANALYZE, BUFFERS)`` with ``jit = off``, as the API's connections run.
"""

import statistics
import sys
from datetime import datetime

import psycopg
from seeding import ROOT

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy.dialects.postgresql import psycopg as pg_dialect

from geo.coords import LatLon
from service.meetings import detect
from service.models import Checkin, Venue
from service.presence import service as presence

DIALECT = pg_dialect.dialect()


class _Recorder:
    """Stands in for a Session: keeps the statement, answers with no rows."""

    def __init__(self):
        self.statement = None
        self.params: dict = {}

    def execute(self, statement, params=None, *_args, **_kwargs):
        self.statement, self.params = statement, dict(params or {})
        return self

    def all(self) -> list:
        return []


def nearby_contacts_sql(
    viewer_id: int, lat: float, lon: float, radius_m: float, now: datetime
) -> tuple[str, dict]:
    """``GET /nearby/contacts``'s statement and parameters."""
    recorder = _Recorder()
    presence.nearby_contacts(
        db_session=recorder,
        viewer_id=viewer_id,
        here_at=LatLon(lat, lon),
        radius_m=radius_m,
        now=now,
    )
    return _compiled(recorder)


def candidates_sql(user_id: int, venue_id: int, at: datetime) -> tuple[str, dict]:
    """Meeting detection's candidate query for a check-in of ``user_id`` at ``venue_id``."""
    recorder = _Recorder()
    # Transient entities: any column the service reads and we do not set is None.
    checkin = Checkin(user_id=user_id, venue_id=venue_id, effective_at=at, private=False)
    detect._candidates(recorder, user_id, checkin, Venue(id=venue_id))
    return _compiled(recorder)


def _compiled(recorder: _Recorder) -> tuple[str, dict]:
    """SQL text for psycopg and every parameter: the statement's own values, overlaid
    with those the service passed to ``execute`` (statements built once with bindparams)."""
    compiled = recorder.statement.compile(dialect=DIALECT)
    return compiled.string, dict(compiled.construct_params(recorder.params or None))


def explain(conn: psycopg.Connection, sql: str, params: dict) -> dict:
    """One ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`` run: times, rows, buffers, plan."""
    (plan,) = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params).fetchone()[0]
    top = plan["Plan"]
    return {
        "planning_ms": plan["Planning Time"],
        "execution_ms": plan["Execution Time"],
        "rows": top["Actual Rows"],
        "shared_hit": top.get("Shared Hit Blocks", 0),
        "shared_read": top.get("Shared Read Blocks", 0),
        "plan": plan,
    }


def explain_text(conn: psycopg.Connection, sql: str, params: dict) -> str:
    """The same as text, to print."""
    rows = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}", params).fetchall()
    return "\n".join(row[0] for row in rows)


def explain_many(conn: psycopg.Connection, samples: list[tuple[str, dict]]) -> dict:
    """Median / p95 planning and execution times and mean rows and buffers over samples."""
    conn.execute("SET jit = off")
    runs = [explain(conn, sql, params) for sql, params in samples]
    if not runs:
        return {}

    def cut(key: str) -> dict:
        values = sorted(run[key] for run in runs)
        return {
            "median": round(statistics.median(values), 3),
            "p95": round(values[min(len(values) - 1, int(len(values) * 0.95))], 3),
        }

    return {
        "samples": len(runs),
        "planning_ms": cut("planning_ms"),
        "execution_ms": cut("execution_ms"),
        "mean_rows": round(statistics.fmean(run["rows"] for run in runs), 2),
        "mean_shared_hit": round(statistics.fmean(run["shared_hit"] for run in runs), 1),
        "mean_shared_read": round(statistics.fmean(run["shared_read"] for run in runs), 1),
    }
