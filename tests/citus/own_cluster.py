"""A Citus cluster of a test's own, for the tests that stop a node."""

import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from sqlalchemy import create_engine

from tests.citus_cluster import CitusCluster
from tests.live import HOST


def consecutive_free_ports(count: int, tries: int = 50) -> int:
    """The first of ``count`` consecutive ports nobody listens on right now."""
    for _ in range(tries):
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            first = probe.getsockname()[1]
        if first + count > 65535:
            continue
        sockets = []
        try:
            for port in range(first, first + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind((HOST, port))
            return first
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError(f"no {count} consecutive free ports in {tries} tries")


@contextmanager
def own_cluster(database: str = "irl") -> Iterator[tuple[CitusCluster, str]]:
    """A coordinator and two workers of the test's own, with ``database`` distributed and
    migrated to head; destroyed after. Yields the cluster and the database's URL."""
    from tests.conftest import migrate  # the one way the schema is made

    cluster = CitusCluster(consecutive_free_ports(3))
    try:
        with ThreadPoolExecutor(len(cluster.nodes)) as pool:  # initdb waits on the disk
            list(pool.map(lambda node: node.init(), cluster.nodes))
        url = cluster.create_database(database)
        engine = create_engine(url)
        with engine.begin() as conn:
            migrate(conn)
        engine.dispose()
        yield cluster, url
    finally:
        cluster.destroy()
