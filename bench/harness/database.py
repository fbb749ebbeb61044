"""The bench databases: URLs, schema, bulk sessions, and the service's own maintenance."""

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]


def conninfo(url: str) -> str:
    """Turn a SQLAlchemy URL into a libpq one for psycopg (without ``+psycopg``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def suffixed(url: str, suffix: str) -> str:
    """Name the database of ``url`` with ``_suffix`` appended."""
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{suffix}").render_as_string(False)


def prepare_and_migrate(url: str) -> None:
    """Create the database with PostGIS, then build the schema with Alembic (only way)."""
    subprocess.run([sys.executable, "scripts/prepare_db.py", url], cwd=ROOT, check=True)
    alembic = [sys.executable, "-m", "alembic", "upgrade", "head"]
    subprocess.run(alembic, cwd=ROOT, env={**os.environ, "DATABASE_URL": url}, check=True)


def recreate(url: str) -> None:
    """Drop the database (if there) and make it again with the schema."""
    admin = conninfo(make_url(url).set(database="postgres").render_as_string(False))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    prepare_and_migrate(url)


def bulk(conn: psycopg.Connection, work_mem: str = "256MB") -> None:
    """Set up one bulk transaction (``replica``: no foreign-key triggers; ids are known good)."""
    conn.execute("SET LOCAL synchronous_commit = off")
    conn.execute(f"SET LOCAL work_mem = '{work_mem}'")
    conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
    conn.execute("SET LOCAL session_replication_role = replica")


def vacuum_all(conn: psycopg.Connection) -> None:
    """VACUUM ANALYZE the whole database, then checkpoint."""
    conn.execute("SET maintenance_work_mem = '1GB'")
    conn.execute("VACUUM ANALYZE")
    conn.execute("CHECKPOINT")


def clear_references(conn: psycopg.Connection, table: str, ids_sql: str) -> None:
    """Delete or null the rows referring to ``ids_sql``'s rows of ``table``, key by key."""
    references = conn.execute(
        "SELECT c.conrelid::regclass::text, a.attname, c.confdeltype FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        " WHERE c.contype = 'f' AND c.confrelid = %s::regclass"
        " AND cardinality(c.conkey) = 1 ORDER BY 1, 2",
        (table,),
    ).fetchall()
    for referrer, column, action in references:
        if action == "n":  # ON DELETE SET NULL
            conn.execute(f"UPDATE {referrer} SET {column} = NULL WHERE {column} IN ({ids_sql})")
        else:
            conn.execute(f"DELETE FROM {referrer} WHERE {column} IN ({ids_sql})")


def cluster_by_place(conn: psycopg.Connection) -> None:
    """Run the service's own ``cluster-venues``: rows in geohash order, indexes rebuilt."""
    from service.venues.maintenance import CLUSTER_STATEMENTS

    for statement in CLUSTER_STATEMENTS:
        conn.execute(statement)


def rebuild_last_seen(conn: psycopg.Connection) -> None:
    """Run ``service.presence.seen.rebuild`` after check-ins were written around the service."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from service.presence import seen

    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(conn.info.dsn))
    try:
        with Session(engine) as session:
            seen.rebuild(session)
            session.commit()
    finally:
        engine.dispose()


def quiesce(conninfo_: str, timeout_s: float = 30.0) -> float:
    """Wait until no query of a finished phase still runs; the seconds waited."""
    started = time.monotonic()
    with psycopg.connect(conninfo_, autocommit=True) as conn:
        while time.monotonic() - started < timeout_s:
            active = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state = 'active' AND pid <> pg_backend_pid()"
            ).fetchone()[0]
            if not active:
                break
            time.sleep(0.1)
    return round(time.monotonic() - started, 2)


class Laps(dict):
    """Seconds per named step of one seeding, printed as each ends."""

    def __init__(self):
        super().__init__()
        self.started = self.mark = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self[name], self.mark = round(now - self.mark, 2), now
        print(f"  {name}: {self[name]} s", flush=True)

    def total(self, **more) -> dict:
        """The steps, ``more`` and ``total_s``."""
        return {**more, **self, "total_s": round(time.perf_counter() - self.started, 2)}
