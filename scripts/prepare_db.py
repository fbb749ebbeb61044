"""Make sure PostgreSQL is up, PostGIS is installed and the databases exist.

Usage: ``python scripts/prepare_db.py URL [URL ...]``. Starts a local Debian cluster if
none answers, installs PostGIS with apt-get when running as root (otherwise says what to
install), and creates each database that is missing. Safe to run again.
"""

import glob
import os
import shutil
import subprocess
import sys
import time

import psycopg
from sqlalchemy.engine import make_url


def _conninfo(url: str, dbname: str | None = None) -> str:
    parsed = make_url(url)
    parts = {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": parsed.username or "postgres",
        "dbname": dbname or parsed.database,
    }
    if parsed.password:
        parts["password"] = parsed.password
    return " ".join(f"{key}={value}" for key, value in parts.items())


def _connect(url: str, dbname: str = "postgres", attempts: int = 1) -> psycopg.Connection:
    for attempt in range(attempts):
        try:
            return psycopg.connect(_conninfo(url, dbname), autocommit=True, connect_timeout=3)
        except psycopg.OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(1)
    raise AssertionError("unreachable")


def _start_local_cluster() -> None:
    clusters = sorted(glob.glob("/etc/postgresql/*/main"))
    if not clusters or not shutil.which("pg_ctlcluster"):
        return
    version = clusters[-1].split("/")[3]
    print(f"starting local PostgreSQL {version} cluster ...", flush=True)
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=False
    )


def _ensure_postgis(conn: psycopg.Connection) -> None:
    if conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").fetchone():
        return
    major = conn.info.server_version // 10000
    package = f"postgresql-{major}-postgis-3"
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit(f"PostGIS is missing: install it with `apt-get install -y {package}` (as root)")
    print(f"installing {package} ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", package], check=True, env=env, stdout=subprocess.DEVNULL
    )


def prepare(url: str) -> None:
    """Server up, PostGIS available, database created."""
    local = (make_url(url).host or "127.0.0.1") in ("127.0.0.1", "localhost", "::1")
    try:
        conn = _connect(url)
    except psycopg.OperationalError:
        if not local:
            raise
        _start_local_cluster()
        conn = _connect(url, attempts=30)
    with conn:
        _ensure_postgis(conn)
        name = make_url(url).database
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
            print(f"created database {name}", flush=True)


if __name__ == "__main__":
    for database_url in sys.argv[1:]:
        prepare(database_url)
