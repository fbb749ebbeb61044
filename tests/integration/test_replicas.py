"""Read replicas with a real PostgreSQL streaming replica (pg_basebackup, a second
cluster): lag-tolerant reads are served by it, writes by the primary, and the person who
just wrote still reads their write while the replica lags."""

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from service import create_app
from service.database import db
from tests.conftest import Actions
from tests.live import ROOT, free_port, required
from tests.private_cluster import PrivateCluster, available

pytestmark = [
    required(available(), "needs root, runuser and PostgreSQL 15's initdb"),
    pytest.mark.cluster,
]


def _sql(cluster: PrivateCluster, query: str):
    with psycopg.connect(
        f"host=127.0.0.1 port={cluster.port} user=postgres dbname=irl", autocommit=True
    ) as conn:
        return conn.execute(query).fetchone()


@pytest.fixture
def pair():
    primary = PrivateCluster(free_port(), {"log_statement": "all"})
    replica = PrivateCluster(free_port(), {"log_statement": "all"})
    primary.init()
    subprocess.run(
        [str(Path(sys.executable).with_name("alembic")), "upgrade", "head"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": primary.url},
        check=True,
        capture_output=True,
    )
    replica.follow(primary)
    yield primary, replica
    replica.destroy()
    primary.destroy()


def _wait_caught_up(primary, replica, timeout_s: float = 15.0) -> None:
    target = _sql(primary, "SELECT pg_current_wal_lsn()")[0]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _sql(replica, f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")[0]:
            return
        time.sleep(0.1)
    raise AssertionError("the replica did not catch up")


def _nearby_names(client, user, venue) -> list[str]:
    response = client.get(
        "/api/v1/venues/nearby",
        headers=user["headers"],
        query_string={"lat": venue["location"]["lat"], "lon": venue["location"]["lon"]},
    )
    assert response.status_code == 200, response.json
    return [item["name"] for item in response.json["items"]]


def test_reads_from_the_replica_writes_to_the_primary_and_read_your_writes(pair):
    primary, replica = pair
    assert _sql(replica, "SELECT pg_is_in_recovery()")[0] is True
    app = create_app(
        {
            "DATABASE_URL": primary.url,
            "DATABASE_REPLICA_URLS": [replica.url],
            "JWT_SECRET_KEY": "replica-secret-" + "r" * 40,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_KIB": 1024,
        }
    )
    try:
        _exercise(app, primary, replica)
    finally:
        state = db.state(app)
        for engine in (state.engine, *state.replicas):
            engine.dispose()


def _exercise(app, primary, replica) -> None:
    client = app.test_client()
    actions = Actions(client)
    writer, reader = actions.register(), actions.register()
    first = actions.venue(writer, 48.2, 16.37, name="Cafe Central")
    _wait_caught_up(primary, replica)
    _sql(replica, "SELECT pg_wal_replay_pause()")
    try:
        second = actions.venue(writer, 48.2001, 16.3701, name="Cafe Sperl")  # the primary
        assert second["id"] > first["id"]
        assert _sql(primary, "SELECT count(*) FROM venues")[0] == 2
        assert _sql(replica, "SELECT count(*) FROM venues")[0] == 1  # paused: it lags
        # someone who did not write reads the replica: the new venue is not there yet
        assert _nearby_names(client, reader, first) == ["Cafe Central"]
        # the writer reads their own write (the replica has not replayed it: the primary)
        assert sorted(_nearby_names(client, writer, first)) == ["Cafe Central", "Cafe Sperl"]
        # a check-in, then my check-ins: there at once
        response = actions.check_in(writer, second)
        assert response.status_code == 201
        mine = client.get("/api/v1/me/checkins", headers=writer["headers"]).json["items"]
        assert [c["id"] for c in mine] == [response.json["checkin"]["id"]]
    finally:
        _sql(replica, "SELECT pg_wal_replay_resume()")
    _wait_caught_up(primary, replica)
    assert sorted(_nearby_names(client, reader, first)) == ["Cafe Central", "Cafe Sperl"]
    # each server's own log: nearby searches on both (the writer's while the replica
    # lagged), the venues written only on the primary
    search, write = "venues.location && _ST_Expand(", "INSERT INTO venues"
    replica_log, primary_log = replica.log.read_text(), primary.log.read_text()
    assert search in replica_log and write not in replica_log
    assert search in primary_log and write in primary_log
