"""PostgreSQL crashes and comes back under load: requests get 503 with Retry-After (never
500, never a hang), /readyz says so, service resumes by itself, and every check-in
answered 201 is in the database afterwards and nothing else is."""

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.live import ROOT, free_port, process_env, required, running_api, wait_until
from tests.private_cluster import PrivateCluster, available

pytestmark = [
    required(available(), "needs root, runuser and PostgreSQL 15's initdb"),
    pytest.mark.cluster,
    pytest.mark.gunicorn,
]
JWT_SECRET = "fault-secret-" + "z" * 40
CLIENTS = 6
DOWN_S = 3.0


@pytest.fixture
def cluster():
    made = PrivateCluster(free_port())
    made.init()
    alembic = Path(sys.executable).with_name("alembic")
    subprocess.run(
        [str(alembic), "upgrade", "head"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": made.url},
        check=True,
        capture_output=True,
    )
    yield made
    made.destroy()


class Phone:
    """One client checking in over and over; retries each check-in with its
    Idempotency-Key until it is answered 201, as the app does."""

    def __init__(self, base: str, token: str, venue: dict):
        self.client = httpx.Client(
            base_url=base, timeout=10, headers={"Authorization": f"Bearer {token}"}
        )
        self.venue = venue
        self.acknowledged: list[int] = []
        self.statuses: dict[int | str, int] = {}
        self.answered_at: list[float] = []  # when each 201 came

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            key = str(uuid.uuid4())
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    response = self.client.post(
                        "/api/v1/checkins",
                        headers={"Idempotency-Key": key},
                        json={"venue_id": self.venue["id"], "location": self.venue["location"]},
                    )
                    status = response.status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                self.statuses[status] = self.statuses.get(status, 0) + 1
                if status == 201:
                    self.acknowledged.append(response.json()["checkin"]["id"])
                    self.answered_at.append(time.monotonic())
                    break
                if status in (503, 409):
                    assert int(response.headers["Retry-After"]) >= 1
                time.sleep(0.2)


def _setup(base: str) -> list[Phone]:
    phones = []
    for index in range(CLIENTS):
        handle = f"phone{index}_{uuid.uuid4().hex[:6]}"
        body = {
            "handle": handle,
            "email": f"{handle}@example.com",
            "password": "correct horse battery",
            "display_name": handle,
        }
        token = httpx.post(f"{base}/api/v1/auth/register", json=body).json()["access_token"]
        venue = httpx.post(
            f"{base}/api/v1/venues",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "name": f"V{index}",
                "category": "Cafe",
                "location": {"lat": 40.7, "lon": -74.0 + index / 100},
            },
        ).json()
        phones.append(Phone(base, token, venue))
    return phones


def _readiness(base: str, status: int) -> httpx.Response | None:
    """``/readyz``'s answer when it has ``status``, else None."""
    try:
        response = httpx.get(f"{base}/readyz", timeout=10)
    except httpx.HTTPError:
        return None
    return response if response.status_code == status else None


def test_a_crash_under_load_loses_no_acknowledged_checkin(cluster, tmp_path):
    env = process_env(
        cluster.url,
        JWT_SECRET,
        CHECKINS_PER_HOUR="1000000",
        DB_POOL_TIMEOUT_S="2",
        RATE_LIMIT_WRITES="1000000 per minute",
        RATE_LIMIT_AUTH="1000000 per minute",
    )
    with running_api(env, tmp_path / "gunicorn.log", workers=2) as base:
        phones = _setup(base)
        stop = threading.Event()
        threads = [threading.Thread(target=p.run, args=(stop,)) for p in phones]
        for thread in threads:
            thread.start()
        wait_until(lambda: all(len(p.acknowledged) >= 3 for p in phones), "load before")
        before = sum(len(p.acknowledged) for p in phones)
        cluster.stop("immediate")  # a crash: no checkpoint, recovery from WAL
        down = wait_until(lambda: _readiness(base, 503), "/readyz to report the outage")
        wait_until(lambda: any(p.statuses.get(503) for p in phones), "a phone to see a 503")
        time.sleep(DOWN_S)  # the outage itself: the database stays down this long
        restarted = cluster.start()
        wait_until(
            lambda: all(any(t > restarted for t in p.answered_at) for p in phones),
            "every phone to be answered 201 after the restart",
        )
        stop.set()
        for thread in threads:
            thread.join(90)
        for phone in phones:
            phone.client.close()
        up = wait_until(lambda: _readiness(base, 200), "/readyz to be ready again")
    statuses: dict = {}
    for phone in phones:
        for status, count in phone.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    acknowledged = [i for p in phones for i in p.acknowledged]
    with psycopg.connect(f"host=127.0.0.1 port={cluster.port} user=postgres dbname=irl") as conn:
        stored = [row[0] for row in conn.execute("SELECT id FROM checkins ORDER BY id")]
    first_after = min(
        (t for p in phones for t in p.answered_at if t > restarted), default=float("inf")
    )
    recovery = first_after - restarted
    print(
        f"faults: {len(acknowledged)} acknowledged ({before} before the crash), "
        f"{len(stored)} stored, statuses {statuses}, recovery {recovery:.2f} s"
    )
    assert down.status_code == 503 and down.json()["database"] != "ok"
    assert up.status_code == 200
    assert set(statuses) <= {201, 503, 409}, statuses  # never a 500, never a hang
    assert statuses.get(503, 0) > 0  # the outage was seen
    assert before > 0 and len(acknowledged) > before
    assert sorted(acknowledged) == stored  # every 201 kept, nothing else, nothing twice
    assert recovery <= 10.0
