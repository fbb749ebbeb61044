"""Tests that only make sense on Citus: they run under ``make test-citus`` (``CITUS_NODES``
names the cluster) and are skipped, each with the reason, everywhere else. Under
``make test-citus`` a database that is not distributed is a failure, never a skip."""

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from tests import citus_cluster

CITUS_NODES = os.environ.get("CITUS_NODES")
HERE = Path(__file__).resolve().parent
NOT_ON_CITUS = "needs a Citus cluster: run `make test-citus` (CITUS_NODES is not set)"


def pytest_collection_modifyitems(items):
    """Skip this directory's tests when no Citus cluster is named."""
    if CITUS_NODES:
        return
    skip = pytest.mark.skip(reason=NOT_ON_CITUS)
    for item in items:
        if HERE in Path(item.fspath).resolve().parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def citus_nodes() -> list[tuple[str, int]]:
    """The run's nodes, the coordinator first."""
    return citus_cluster.parse_nodes(CITUS_NODES)


@pytest.fixture(scope="session")
def distributed(engine):
    """The run's engine, after checking that the test database really is distributed
    (a Citus extension with workers, ``users`` hash-distributed): else fail."""
    with engine.connect() as conn:
        version = conn.execute(
            text("SELECT extversion FROM pg_extension WHERE extname = 'citus'")
        ).scalar()
        assert version, "CITUS_NODES is set but the test database has no citus extension"
        workers = conn.execute(text("SELECT count(*) FROM citus_get_active_worker_nodes()"))
        assert workers.scalar() >= 2, "the Citus cluster has fewer than two active workers"
        kind = conn.execute(
            text("SELECT citus_table_type FROM citus_tables WHERE table_name = 'users'::regclass")
        ).scalar()
        assert kind == "distributed", f"users is not distributed on this cluster ({kind})"
    return engine
