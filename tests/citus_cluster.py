"""A Citus cluster of the tests' and the benchmark's own: a coordinator and two workers,
each a private PostgreSQL cluster with Citus preloaded, on consecutive ports.

``python -m tests.citus_cluster run -- COMMAND`` starts one, runs COMMAND with
``TEST_DATABASE_URL`` on the coordinator and ``CITUS_NODES`` naming every node, and
destroys it after (``make test-citus``). ``start``/``stop`` keep one running in a
directory of your choice for the edit-run loop or ``make bench``.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from tests.private_cluster import PrivateCluster

# Few shards: the tests' TRUNCATE and each distribution step take about a quarter of the
# time they take with Citus's default 32, and every routing property is the same.
TEST_SHARDS = 4


def node_settings(shards: int) -> dict:
    """Server settings of every node."""
    return {
        "shared_preload_libraries": "citus",
        "citus.shard_count": shards,
        # the coordinator keeps a connection per worker per busy session: room for a
        # pool of 35 sessions, the tests' gunicorns and the push worker
        "max_connections": 400,
        "wal_level": "logical",  # shard moves that keep accepting writes (force_logical)
        "fsync": "off",  # a throwaway cluster: durability buys nothing here
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }


def parse_nodes(text: str) -> list[tuple[str, int]]:
    """``host:port,host:port,...`` (the coordinator first) as pairs."""
    nodes = []
    for item in text.split(","):
        host, _, port = item.strip().rpartition(":")
        nodes.append((host, int(port)))
    return nodes


def _admin(host: str, port: int, dbname: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(
        f"host={host} port={port} user=postgres dbname={dbname}", autocommit=True
    )


def recreate_database(nodes: list[tuple[str, int]], name: str) -> None:
    """Drop and create ``name`` on every node with Citus and PostGIS, and register the
    workers with the coordinator (``nodes[0]``): an empty distributed database.

    ``DROP SCHEMA public CASCADE`` cannot empty a Citus database: the extension keeps
    views in ``public``, so the cascade reaches the extension itself."""
    for host, port in reversed(nodes):  # the workers first: the coordinator holds links
        with _admin(host, port) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        with _admin(host, port, name) as conn:
            conn.execute("CREATE EXTENSION citus")
            conn.execute("CREATE EXTENSION postgis")
    (host, port), workers = nodes[0], nodes[1:]
    with _admin(host, port, name) as conn:
        conn.execute("SELECT citus_set_coordinator_host(%s, %s)", (host, port))
        for worker_host, worker_port in workers:
            conn.execute("SELECT citus_add_node(%s, %s)", (worker_host, worker_port))


class CitusCluster:
    """A coordinator on ``port`` and ``workers`` workers on the ports after it."""

    def __init__(
        self,
        port: int = 9700,
        workers: int = 2,
        shards: int = TEST_SHARDS,
        root: Path | None = None,
    ):
        settings = node_settings(shards)
        self.root = Path(root) if root else None
        self.nodes = [
            PrivateCluster(port + i, settings, root=self.root / f"node{i}" if root else None)
            for i in range(workers + 1)
        ]

    @property
    def coordinator(self) -> PrivateCluster:
        return self.nodes[0]

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", node.port) for node in self.nodes]

    def nodes_text(self) -> str:
        """The ``CITUS_NODES`` value: ``host:port`` of each node, the coordinator first."""
        return ",".join(f"{host}:{port}" for host, port in self.addresses)

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.coordinator.port}/{name}"

    def init(self) -> None:
        """initdb and start every node."""
        for node in self.nodes:
            if (node.data / "PG_VERSION").exists():
                node.start()
            else:
                node.init()

    def create_database(self, name: str) -> str:
        """An empty distributed database ``name``; its URL on the coordinator."""
        recreate_database(self.addresses, name)
        return self.url(name)

    def stop(self) -> None:
        for node in reversed(self.nodes):
            node.stop()

    def destroy(self) -> None:
        for node in self.nodes:
            node.destroy()


def installed() -> bool:
    """True where the Citus extension is installed for PostgreSQL 15 (``make citus``)."""
    return Path("/usr/share/postgresql/15/extension/citus.control").exists()


def _run(args) -> int:
    cluster = CitusCluster(args.port, args.workers, args.shards)
    started = time.monotonic()
    try:
        cluster.init()
        name = make_url(os.environ.get("TEST_DATABASE_URL", cluster.url("irl_test"))).database
        url = cluster.create_database(name)
        print(
            f"Citus cluster {cluster.nodes_text()} ready in {time.monotonic() - started:.1f} s",
            flush=True,
        )
        env = {**os.environ, "TEST_DATABASE_URL": url, "CITUS_NODES": cluster.nodes_text()}
        return subprocess.run(args.command, env=env, check=False).returncode
    finally:
        cluster.destroy()


def _start(args) -> int:
    cluster = CitusCluster(args.port, args.workers, args.shards, root=Path(args.dir))
    for node in cluster.nodes:
        node.settings.update(item.split("=", 1) for item in args.set)
    cluster.init()
    if args.database:
        print(cluster.create_database(args.database))
    print(f"CITUS_NODES={cluster.nodes_text()}")
    return 0


def _stop(args) -> int:
    CitusCluster(args.port, args.workers, args.shards, root=Path(args.dir)).stop()
    return 0


def _createdb(args) -> int:
    print(CitusCluster(args.port, args.workers, args.shards).create_database(args.name))
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.citus_cluster")
    parser.add_argument("--port", type=int, default=int(os.environ.get("CITUS_PORT", 9700)))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shards", type=int, default=TEST_SHARDS)
    commands = parser.add_subparsers(dest="action", required=True)
    run = commands.add_parser("run", help="start a cluster, run a command on it, destroy it")
    run.add_argument("command", nargs=argparse.REMAINDER)
    run.set_defaults(handler=_run)
    start = commands.add_parser("start", help="start (or restart) a cluster kept in DIR")
    start.add_argument("dir")
    start.add_argument("--database", help="also (re)create this empty distributed database")
    start.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a server setting of every node (repeatable; wins over the test defaults)",
    )
    start.set_defaults(handler=_start)
    stop = commands.add_parser("stop", help="stop the cluster kept in DIR")
    stop.add_argument("dir")
    stop.set_defaults(handler=_stop)
    createdb = commands.add_parser("createdb", help="(re)create an empty distributed database")
    createdb.add_argument("name")
    createdb.set_defaults(handler=_createdb)
    args = parser.parse_args(argv)
    if getattr(args, "command", None) and args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not installed():
        print("Citus is not installed: run `make citus`", file=sys.stderr)
        return 1
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
