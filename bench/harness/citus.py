"""The benchmark's own Citus cluster: a coordinator and two workers kept in
``bench/results/tmp/citus``, started for the ``citus`` phase and stopped after it, the
seeded database reused while its seeding options match (README).

The cluster is the tests' (``tests/citus_cluster.py``), driven through its command line
as ``scripts/prepare_db.py`` is: bench/ imports nothing from tests/."""

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench.harness.database import ROOT

PORT = 9710  # the coordinator; the workers on the next ports (the tests' cluster: 9700)
WORKERS = 2
SHARDS = 32  # Citus's default: the shard count a production cluster starts with
SHARED_BUFFERS = "512MB"  # per node: three servers share the machine with the single node
# copied from the single-node server, so both sides commit and plan alike; the tests'
# cluster turns durability off, which would flatter every write
COPIED = ("fsync", "synchronous_commit", "full_page_writes", "wal_level", "max_wal_size")
COPIED += ("checkpoint_timeout", "work_mem", "random_page_cost", "effective_cache_size")
COPIED += ("effective_io_concurrency", "jit")
UNITS = {"8kB": 8, "kB": 1, "MB": 1024}
CONTROL = Path("/usr/share/postgresql/15/extension/citus.control")  # make citus


def available() -> bool:
    """Whether Citus is installed for PostgreSQL 15 (``make citus``)."""
    return CONTROL.exists()


def settings_of(server_conninfo: str) -> dict[str, str]:
    """The single-node server's values of ``COPIED``, in units ``-c`` takes."""
    with psycopg.connect(server_conninfo) as conn:
        rows = conn.execute(
            "SELECT name, setting, coalesce(unit, '') FROM pg_settings WHERE name = ANY(%s)",
            (list(COPIED),),
        ).fetchall()
    found = {}
    for name, setting, unit in rows:
        if unit in UNITS:  # memory: kB, which every server takes
            found[name] = f"{int(setting) * UNITS[unit]}kB"
        elif unit:  # time: the unit as shown (s, min, ms)
            found[name] = f"{setting}{unit}"
        else:
            found[name] = setting
    return found


@dataclass
class Cluster:
    """The running cluster's nodes (the coordinator first)."""

    port: int
    workers: int = WORKERS

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", self.port + n) for n in range(self.workers + 1)]

    def nodes_text(self) -> str:
        return ",".join(f"{host}:{port}" for host, port in self.addresses)

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


def _cli(port: int, shards: int, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "tests.citus_cluster", "--port", str(port)]
    command += ["--shards", str(shards), *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def _answers(port: int) -> bool:
    try:
        psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres",
                        connect_timeout=2).close()  # fmt: skip
        return True
    except psycopg.OperationalError:
        return False


@contextmanager
def running(root: Path, copied: dict[str, str], port: int = PORT,
            shards: int = SHARDS) -> Iterator[Cluster]:  # fmt: skip
    """Start the cluster kept in ``root`` (made on first use) with the single node's
    ``copied`` settings and modest shared buffers; stop it after (its data stays)."""
    root.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(port)
    if any(_answers(p) for _, p in cluster.addresses):  # a run that died left it up:
        _cli(port, shards, "stop", str(root))  # restart it with these settings
    settings = {**copied, "shared_buffers": SHARED_BUFFERS}
    started = _cli(port, shards, "start", str(root),
                   *[f"--set={k}={v}" for k, v in settings.items()])  # fmt: skip
    if started.returncode == 2 and "--set" in started.stderr:  # a CLI without --set
        warning = "WARNING: tests.citus_cluster start takes no --set: the nodes run with"
        print(f"{warning} the tests' settings (fsync off ...): Citus's writes flattered")
        started = _cli(port, shards, "start", str(root))
    if started.returncode:
        raise RuntimeError(f"the Citus cluster did not start: {started.stderr[-2000:]}")
    try:
        yield cluster
    finally:
        _cli(port, shards, "stop", str(root))


def _admin(host: str, port: int, dbname: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(f"host={host} port={port} user=postgres dbname={dbname}",
                           autocommit=True)  # fmt: skip


def distributed_database(cluster: Cluster, name: str, fresh: bool) -> str:
    """The URL of ``name`` on the coordinator: (re)created empty on every node, with
    Citus and PostGIS and the workers registered, when ``fresh`` or missing, else as it is
    (its seeding then decides what to redo). The same steps as the tests' cluster's."""
    host, port = cluster.addresses[0]
    with _admin(host, port) as conn:
        there = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    if there and not fresh:
        return cluster.url(name)
    # the tests' own steps, through their command line (bench/ imports nothing from tests/)
    made = _cli(port, SHARDS, "--workers", str(cluster.workers), "createdb", name)
    if made.returncode:
        raise RuntimeError(f"could not create {name} on the cluster: {made.stderr[-2000:]}")
    return cluster.url(name)


def shard_count(conn: psycopg.Connection) -> int | None:
    """The shards of ``checkins`` (None before the schema is distributed)."""
    if not conn.execute("SELECT to_regclass('pg_dist_shard')").fetchone()[0]:
        return None
    row = conn.execute(
        "SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = to_regclass('checkins')"
    ).fetchone()
    return row[0] or None


def node_facts(cluster: Cluster, name: str) -> dict:
    """Each node's memory and durability settings and database size, the shard count."""
    found = {}
    for host, port in cluster.addresses:
        with _admin(host, port, name) as conn:
            row = conn.execute(
                "SELECT current_setting('shared_buffers'), current_setting('fsync'),"
                " current_setting('synchronous_commit'), pg_database_size(current_database())"
            ).fetchone()
        keys = ("shared_buffers", "fsync", "synchronous_commit", "database_bytes")
        found[str(port)] = dict(zip(keys, row, strict=True))
    with _admin(*cluster.addresses[0], name) as conn:
        found["shards"] = shard_count(conn)
        found["citus"] = conn.execute("SELECT citus_version()").fetchone()[0].split(" on ")[0]
    return found
