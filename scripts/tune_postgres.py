"""Size a local PostgreSQL's memory for this machine, as a dedicated database server's.

Usage: ``python scripts/tune_postgres.py URL``. Sets ``shared_buffers`` to a quarter of
RAM (at most 8 GB) and ``effective_cache_size`` to three quarters (``ALTER SYSTEM``),
then restarts the local Debian cluster if ``shared_buffers`` changed (it only takes
effect at start). Nothing changes when the values are already there, or when the server
is not local (say what to set instead). The default, 128 MB, holds none of the 10 M
venue world: its nearby query then read 65 of its 120 pages from the OS cache (2.5 ms
against 0.5 at 1 M venues), measured by ``bench/scale.py``.
"""

import glob
import os
import shutil
import subprocess
import sys
import time

import psycopg
from prepare_db import _conninfo
from sqlalchemy.engine import make_url

MAX_SHARED_MB = 8192


def wanted() -> dict[str, str]:
    """The settings for this machine's RAM."""
    ram_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    return {
        "shared_buffers": f"{min(MAX_SHARED_MB, ram_mb // 4)}MB",
        "effective_cache_size": f"{ram_mb * 3 // 4}MB",
    }


def _megabytes(conn: psycopg.Connection, name: str) -> int:
    return conn.execute(
        "SELECT setting::bigint * pg_size_bytes(coalesce(nullif(unit, ''), '1B')) / 1048576"
        " FROM pg_settings WHERE name = %s",
        (name,),
    ).fetchone()[0]


def tune(url: str) -> None:
    """Apply ``wanted()``; restart the local cluster when shared_buffers must change."""
    local = (make_url(url).host or "127.0.0.1") in ("127.0.0.1", "localhost", "::1")
    settings = wanted()
    with psycopg.connect(_conninfo(url, "postgres"), autocommit=True) as conn:
        current = {name: _megabytes(conn, name) for name in settings}
        changed = [name for name in settings if current[name] != int(settings[name][:-2])]
        if not changed:
            print(f"PostgreSQL memory already sized: {settings}", flush=True)
            return
        if not local:
            print(f"remote PostgreSQL: set {settings} on it for these figures", flush=True)
            return
        for name in changed:
            conn.execute(f"ALTER SYSTEM SET {name} = '{settings[name]}'")
        conn.execute("SELECT pg_reload_conf()")
    print(f"PostgreSQL memory: {current} MB -> {settings}", flush=True)
    if "shared_buffers" in changed:
        _restart_local_cluster(url)


def _restart_local_cluster(url: str) -> None:
    clusters = sorted(glob.glob("/etc/postgresql/*/main"))
    if not clusters or not shutil.which("pg_ctlcluster"):
        print("restart PostgreSQL for shared_buffers to take effect", flush=True)
        return
    version = clusters[-1].split("/")[3]
    print(f"restarting the local PostgreSQL {version} cluster ...", flush=True)
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"]
    subprocess.run(command, check=True)
    for _ in range(60):
        try:
            psycopg.connect(_conninfo(url, "postgres"), connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            time.sleep(0.5)
    raise SystemExit("PostgreSQL did not come back after the restart")


if __name__ == "__main__":
    tune(sys.argv[1])
