"""The service's own SQL for nearby contacts and meeting detection, to EXPLAIN ANALYZE.

The nearby-contacts statement is built by the service code itself
(``presence.service.nearby_contacts``) handed a session stand-in that records the
statement instead of running it (``session.connection().execute(...)`` included); the
meeting candidates are taken at the cursor from real check-ins run in process and rolled
back (``meeting_statements``). Either way the benchmark explains exactly what the API
sends, never a hand-copied variant that could drift. Each is run under ``EXPLAIN
(ANALYZE, BUFFERS)`` with ``jit = off``, as the API's connections run.
"""

import statistics
import sys
from datetime import datetime
from types import SimpleNamespace

import psycopg
from seeding import ROOT

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy.dialects.postgresql import psycopg as pg_dialect

from geo.coords import LatLon
from service.presence import service as presence

DIALECT = pg_dialect.dialect()


class _Recorder:
    """Stands in for a Session: keeps the last statement, answers with no rows. Its
    ``connection()`` stands in for the Connection it gives (Core statements run there),
    recording into it too."""

    def __init__(self):
        self.statement = None
        self.params: dict = {}

    def connection(self, *_args, **_kwargs) -> "_Connection":
        return _Connection(self)

    def execute(self, statement, params=None, *_args, **_kwargs):
        self.statement, self.params = statement, dict(params or {})
        return self

    def scalars(self, *_args, **_kwargs) -> "_Recorder":
        return self

    def all(self) -> list:
        return []

    def first(self) -> None:
        return None

    def scalar(self) -> None:
        return None

    def __iter__(self):
        return iter(())


class _Connection:
    """Stands in for ``session.connection()``: executes into its recorder, and has the
    pooled connection's ``driver_connection`` (whose ``prepare_threshold``
    ``common.plans.custom_plans`` turns off and back on)."""

    def __init__(self, recorder: _Recorder):
        self.execute = recorder.execute
        self.connection = SimpleNamespace(driver_connection=SimpleNamespace(prepare_threshold=5))


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


def meeting_statements(url: str, jobs: list[tuple]) -> list[tuple[str, dict]]:
    """Meeting detection's candidate query as real check-ins send it: each job
    (``user_id, venue_id, lat, lon, private``) is POSTed in process (``create_app``,
    Flask's test client) inside one transaction that is rolled back at the end (the
    session joins it with savepoints, as the tests do), every statement recorded at the
    cursor (``sql_trace``); of each check-in, the first SELECT sent from a function in
    ``service/meetings/``. No function of the check-in path is named, so it follows the
    code as it changes."""
    import secrets
    from datetime import timedelta

    import sql_trace
    from flask_jwt_extended import create_access_token

    from service import create_app
    from service.database import Database

    secret = secrets.token_urlsafe(48)
    app = create_app(
        {"DATABASE_URL": url, "JWT_SECRET_KEY": secret, "JWT_ACCESS_TOKEN_EXPIRES": timedelta(1)}
    )
    state = Database.state(app)
    with app.app_context():
        tokens = {job[0]: create_access_token(identity=str(job[0])) for job in jobs}
    client, found = app.test_client(), []
    with state.engine.connect() as conn:
        outer = conn.begin()
        state.session_factory.configure(bind=conn, join_transaction_mode="create_savepoint")
        try:
            with sql_trace.Trace(state.engine) as trace:
                for user_id, venue_id, lat, lon, private in jobs:
                    client.post(
                        "/api/v1/checkins",
                        json={
                            "venue_id": venue_id,
                            "location": {"lat": lat, "lon": lon},
                            "private": private,
                        },
                        headers={"Authorization": f"Bearer {tokens[user_id]}"},
                    )
                    found += [
                        (entry.sql, dict(entry.params))
                        for entry in trace.take()
                        if entry.sql.lstrip().upper().startswith("SELECT")
                        and isinstance(entry.params, dict)
                        and any(site.startswith("meetings.") for site in entry.sites)
                    ][:1]
        finally:
            outer.rollback()
    state.engine.dispose()
    return found


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
