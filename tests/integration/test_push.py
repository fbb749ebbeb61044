"""Push delivery to a real local HTTP receiver: signed, retried with backoff, given up
after a bound and recorded; a dead gateway never slows a check-in."""

import hashlib
import hmac
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from service import clock
from service.database import db
from service.models import PushDelivery
from service.notifications.outbox import PUSH_CHANNEL
from service.notifications.push import PushSettings, PushWorker, backoff_s
from tests.conftest import TEST_DATABASE_URL, Actions, befriend, offset_point
from tests.live import ROOT, Receiver, process_env, wait_until

HERE = (51.5074, -0.1278)  # London
SECRET = "push-signing-secret"


@pytest.fixture(autouse=True)
def midday(frozen_clock):
    """London at noon yesterday: a first check-in earns Newbie alone (no Night Owl), and
    what it queues is already due for a worker on the real clock."""
    yesterday = frozen_clock.current - timedelta(days=1)
    frozen_clock.current = yesterday.replace(hour=12, minute=0)
    return frozen_clock


@pytest.fixture
def receiver():
    made = []

    def make(*statuses, delay_s=0.0):
        made.append(Receiver(statuses or (200,), delay_s))
        return made[-1]

    yield make
    for server in made:
        server.close()


@pytest.fixture
def pushing(live_app):
    """The live app with a push gateway configured; restored afterwards."""
    saved = dict(live_app.config)
    live_app.config.update(PUSH_GATEWAY_URL="http://127.0.0.1:9/unused", PUSH_SIGNING_SECRET=SECRET)
    yield live_app
    live_app.config.clear()
    live_app.config.update(saved)


def worker_for(app, url: str, **settings) -> PushWorker:
    return PushWorker(
        db.state(app).engine,
        PushSettings(gateway_url=url, secret=SECRET.encode(), timeout_s=1.0, **settings),
    )


def queue_one(app, token: str = "apns-1") -> tuple[dict, str]:
    """A user with an iPhone gets a Newbie badge: one push delivery queued."""
    client = app.test_client()
    actions = Actions(client)
    user = actions.register()
    response = client.post(
        "/api/v1/me/devices", headers=user["headers"], json={"platform": "ios", "token": token}
    )
    assert response.status_code == 201
    assert actions.check_in(user, actions.venue(user, *HERE)).status_code == 201
    return user, token


def deliveries(app) -> list[PushDelivery]:
    with app.app_context():
        return db.session.scalars(select(PushDelivery).order_by(PushDelivery.id)).all()


def test_delivered_signed_with_the_devices_and_the_notification(pushing, receiver):
    gateway = receiver(200)
    _user, token = queue_one(pushing)
    worker = worker_for(pushing, gateway.url)
    try:
        assert worker.deliver_due() >= 1
    finally:
        worker.close()
    request = gateway.wait_for(1)[0]
    expected = hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-IRL-Signature"] == f"sha256={expected}"
    body = gateway.json(0)
    assert body["devices"] == [{"platform": "ios", "token": token}]
    assert body["notification"]["kind"] in ("badge", "nearby", "meeting")
    assert body["attempt"] == 1
    states = {d.state for d in deliveries(pushing)}
    assert states == {"sent"}


def test_a_forged_signature_would_not_match(pushing, receiver):
    gateway = receiver(200)
    queue_one(pushing)
    worker = worker_for(pushing, gateway.url)
    try:
        worker.deliver_due()
    finally:
        worker.close()
    request = gateway.wait_for(1)[0]
    forged = hmac.new(b"another secret", request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-IRL-Signature"] != f"sha256={forged}"


def test_a_failing_gateway_is_retried_with_backoff(pushing, receiver, frozen_clock):
    gateway = receiver(503, 500, 200)
    queue_one(pushing)
    worker = worker_for(pushing, gateway.url, base_delay_s=10.0)
    try:
        assert worker.deliver_due() == 1
        (pending,) = deliveries(pushing)
        assert pending.state == "pending" and pending.attempts == 1
        assert "HTTP 503" in pending.last_error
        wait = (pending.next_attempt_at - clock.now()).total_seconds()
        assert 5.0 <= wait <= 10.0  # base 10 s, jitter in [0.5, 1]
        assert worker.deliver_due() == 0  # not due yet
        frozen_clock.advance(seconds=10)
        assert worker.deliver_due() == 1
        (pending,) = deliveries(pushing)
        wait = (pending.next_attempt_at - clock.now()).total_seconds()
        assert 10.0 <= wait <= 20.0  # doubled
        frozen_clock.advance(seconds=20)
        assert worker.deliver_due() == 1
    finally:
        worker.close()
    (sent,) = deliveries(pushing)
    assert sent.state == "sent" and sent.attempts == 3 and sent.last_error is None
    assert [gateway.json(i)["attempt"] for i in range(3)] == [1, 2, 3]


def test_gives_up_after_the_last_attempt_and_records_why(pushing, receiver, frozen_clock):
    gateway = receiver(500)
    queue_one(pushing)
    worker = worker_for(pushing, gateway.url, max_attempts=3, base_delay_s=1.0)
    try:
        for _ in range(5):
            worker.deliver_due()
            frozen_clock.advance(seconds=60)
    finally:
        worker.close()
    (failed,) = deliveries(pushing)
    assert failed.state == "failed" and failed.attempts == 3
    assert "gave up after 3 attempts" in failed.last_error and "HTTP 500" in failed.last_error
    assert len(gateway.requests) == 3


def test_a_refused_request_is_not_retried(pushing, receiver):
    gateway = receiver(400)
    queue_one(pushing)
    worker = worker_for(pushing, gateway.url)
    try:
        worker.deliver_due()
    finally:
        worker.close()
    (failed,) = deliveries(pushing)
    assert failed.state == "failed" and failed.attempts == 1 and "HTTP 400" in failed.last_error


def test_an_unreachable_gateway_is_retried(pushing, frozen_clock):
    queue_one(pushing)
    worker = worker_for(pushing, "http://127.0.0.1:9/closed")
    try:
        worker.deliver_due()
    finally:
        worker.close()
    (pending,) = deliveries(pushing)
    assert pending.state == "pending" and "ConnectError" in pending.last_error


def test_no_device_no_delivery(pushing):
    client = pushing.test_client()
    actions = Actions(client)
    user = actions.register()
    actions.check_in(user, actions.venue(user, *HERE))
    assert deliveries(pushing) == []


def test_without_a_gateway_nothing_is_queued(live_app):
    live_app.config["PUSH_GATEWAY_URL"] = ""
    queue_one(live_app)
    assert deliveries(live_app) == []


def test_a_dead_gateway_never_slows_a_checkin(pushing, receiver):
    gateway = receiver(200, delay_s=5.0)
    client = pushing.test_client()
    actions = Actions(client)
    a, b = actions.register(), actions.register()
    befriend(client, a, b)
    for user, token in ((a, "ta"), (b, "tb")):
        client.post(
            "/api/v1/me/devices", headers=user["headers"], json={"platform": "ios", "token": token}
        )
    actions.check_in(b, actions.venue(b, *HERE))
    worker = worker_for(pushing, gateway.url, concurrency=1)
    runner = threading.Thread(target=worker.deliver_due)
    runner.start()
    gateway.wait_for(1)  # the worker is now stuck on the gateway
    started = time.perf_counter()
    response = actions.check_in(a, actions.venue(a, *offset_point(HERE, 100)))
    elapsed = time.perf_counter() - started
    assert response.status_code == 201
    assert elapsed < 1.0
    runner.join()
    worker.close()


def test_backoff_doubles_up_to_its_cap():
    assert [backoff_s(n, 2.0, 30.0, 1.0) for n in range(1, 7)] == [2, 4, 8, 16, 30, 30]
    assert backoff_s(3, 2.0, 30.0, 0.5) == 4.0


def _listening(app) -> bool:
    """Whether another connection to the test database is listening on the push channel."""
    with db.state(app).engine.connect() as conn:
        return bool(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND query = :listen"
                ),
                {"listen": f"LISTEN {PUSH_CHANNEL}"},
            )
        )


@pytest.mark.gunicorn
def test_the_cli_worker_delivers_as_notifications_arrive(pushing, receiver, tmp_path: Path):
    gateway = receiver(200)
    env = process_env(
        TEST_DATABASE_URL,
        pushing.config["JWT_SECRET_KEY"],
        PUSH_GATEWAY_URL=gateway.url,
        PUSH_SIGNING_SECRET=SECRET,
    )
    flask = Path(sys.executable).with_name("flask")
    with (tmp_path / "worker.log").open("w") as log:
        worker = subprocess.Popen(
            [str(flask), "--app", "wsgi", "push-worker"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
    try:
        wait_until(lambda: _listening(pushing), "the worker to LISTEN", timeout_s=30)
        started = time.monotonic()
        queue_one(pushing)
        gateway.wait_for(1, timeout_s=10)
        assert time.monotonic() - started < 5.0
    finally:
        worker.terminate()
        assert worker.wait(20) == 0
    assert {d.state for d in deliveries(pushing)} == {"sent"}
    assert gateway.json(0)["devices"][0]["token"] == "apns-1"


def test_the_cli_worker_without_a_gateway_says_so(runner):
    # without a gateway the worker keeps running for its periodic chores: ask for one pass
    result = runner.invoke(args=["push-worker", "--once"])
    assert result.exit_code == 0 and "PUSH_GATEWAY_URL is not set" in result.output


def test_lease_returns_a_crashed_workers_claims(pushing, receiver, frozen_clock):
    gateway = receiver(200)
    queue_one(pushing)
    worker = worker_for(pushing, gateway.url, lease_s=60.0)
    try:
        with Session(worker.engine) as session, session.begin():
            assert len(worker._claim(session, clock.now())) == 1  # then the worker "dies"
        assert worker.deliver_due() == 0
        frozen_clock.advance(seconds=61)
        assert worker.deliver_due() == 1
    finally:
        worker.close()
    (sent,) = deliveries(pushing)
    assert sent.state == "sent" and sent.attempts == 2


def test_two_workers_racing_send_each_delivery_once(pushing, receiver):
    gateway = receiver(200, delay_s=0.05)
    for n in range(8):
        queue_one(pushing, f"apns-{n}")
    queued = len(deliveries(pushing))
    workers = [worker_for(pushing, gateway.url, batch=3) for _ in range(2)]
    start = threading.Barrier(2)

    def drain(worker):
        start.wait()
        while worker.deliver_due():
            pass

    threads = [threading.Thread(target=drain, args=(worker,)) for worker in workers]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        for worker in workers:
            worker.close()
    sent = [gateway.json(i)["delivery_id"] for i in range(len(gateway.requests))]
    assert len(sent) == queued and len(set(sent)) == queued
    assert {(d.state, d.attempts) for d in deliveries(pushing)} == {("sent", 1)}


def _claiming(app) -> bool:
    """Whether another connection is running a claim's UPDATE (waiting for the row: on
    Citus the wait is on a worker, under the coordinator's running statement)."""
    with db.state(app).engine.connect() as conn:
        return bool(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND state = 'active' AND query LIKE 'UPDATE push_deliveries%'"
                )
            )
        )


def test_a_claim_read_before_another_workers_commit_skips_its_delivery(pushing, receiver):
    """The second worker reads the delivery as due while the first holds it, uncommitted:
    its claim waits for the row, then finds it leased and leaves it."""
    gateway = receiver(200)
    queue_one(pushing)
    first, second = (worker_for(pushing, gateway.url) for _ in range(2))
    now = clock.now()
    got = []
    try:
        with Session(first.engine) as session, session.begin():
            assert len(first._claim(session, now)) == 1
            late = threading.Thread(target=lambda: got.append(_claim_alone(second, now)))
            late.start()
            wait_until(lambda: _claiming(pushing), "the second claim to wait")
        late.join(10)
    finally:
        first.close()
        second.close()
    assert got == [[]]
    (claimed,) = deliveries(pushing)
    assert claimed.state == "pending" and claimed.attempts == 1


def _claim_alone(worker: PushWorker, now) -> list:
    with Session(worker.engine) as session, session.begin():
        return worker._claim(session, now)
