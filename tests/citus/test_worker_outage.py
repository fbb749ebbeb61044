"""A Citus worker stops under load: the phones whose rows (or venues) it holds get 503
with Retry-After, never a 500; when it is back every phone is answered 201 again, and
every check-in answered 201 is in the database, whole, and nothing else is.

The tests stop a worker, so they run on a cluster of their own (about 10 s to make)."""

import time
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, event

from service.database import db
from tests.citus.consistency import answers_problems, lost_or_half_written
from tests.citus.load import (
    Load,
    Phone,
    app_send,
    http_send,
    users_on_each_worker,
    venue_of,
    worker_of,
)
from tests.citus.own_cluster import own_cluster
from tests.live import process_env, running_api, wait_until

JWT_SECRET = "outage-secret-" + "z" * 40
PER_WORKER = 3  # phones whose user lives on each worker
DOWN_S = 3.0


@pytest.fixture(scope="module")
def cluster():
    """A coordinator and two workers of this module's own, the schema distributed."""
    with own_cluster() as made:
        yield made


def _on_worker(url: str, phones: list[Phone], port: int) -> list[Phone]:
    """The phones whose user's rows the worker on ``port`` holds."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [p for p in phones if worker_of(conn, "users", p.user_id) == port]
    finally:
        engine.dispose()


@pytest.mark.gunicorn
def test_a_stopped_worker_gives_503_and_loses_no_acknowledged_checkin(cluster, tmp_path):
    cluster, url = cluster
    env = process_env(
        url,
        JWT_SECRET,
        CHECKINS_PER_HOUR="1000000",
        DB_POOL_TIMEOUT_S="2",
        RATE_LIMIT_WRITES="1000000 per minute",
        RATE_LIMIT_AUTH="1000000 per minute",
    )
    log = tmp_path / "gunicorn.log"
    with running_api(env, log) as base:
        send = http_send(base)
        users = users_on_each_worker(send, url, PER_WORKER)
        venues = [venue_of(send, user, index) for index, user in enumerate(users)]
        phones = [Phone(send, user, venue) for user, venue in zip(users, venues, strict=True)]
        for phone in phones:  # each venue's first check-in writes its city (every node)
            phone.check_in()
        stopped = cluster.nodes[1]
        on_stopped = _on_worker(url, phones, stopped.port)
        with Load(phones) as load:
            wait_until(lambda: all(len(p.acknowledged) >= 2 for p in phones), "load before")
            before = load.acknowledged()
            stopped.stop("immediate")  # a crash: no checkpoint, recovery from WAL
            wait_until(
                lambda: all(p.statuses.get(503) for p in on_stopped),
                "each phone on the stopped worker to see a 503",
            )
            time.sleep(DOWN_S)  # the outage itself: the worker stays down this long
            during = load.statuses()
            restarted = stopped.start()
            wait_until(
                lambda: all(p.answered_since(restarted) for p in phones),
                "every phone to be answered 201 after the restart",
            )
        send.close()
    problems = answers_problems(phones) + lost_or_half_written(url, phones)
    recovery = min(t for p in phones for t in p.answered_at if t > restarted) - restarted
    print(
        f"worker outage: {load.acknowledged()} acknowledged ({before} before the stop), "
        f"statuses {load.statuses()} (by the restart {during}), {len(on_stopped)} of "
        f"{len(phones)} users on the stopped worker, first 201 {recovery:.2f} s after it"
    )
    assert not problems, "\n".join(problems) + "\n" + log.read_text()[-3000:]
    assert load.statuses().get(503, 0) > 0  # the outage was seen
    assert load.acknowledged() > before


@pytest.fixture
def own_app(cluster):
    """The app in this process on the module's cluster."""
    from service.app import create_app

    _, url = cluster
    app = create_app(
        {
            "DATABASE_URL": url,
            "JWT_SECRET_KEY": JWT_SECRET,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_KIB": 1024,
            "TESTING": True,
            "CHECKINS_PER_HOUR": 1_000_000,
            "RATE_LIMIT_WRITES": "100000 per minute",
            "RATE_LIMIT_AUTH": "100000 per minute",
        }
    )
    yield app
    db.state(app).engine.dispose()


@contextmanager
def _worker_dies_at_commit(engine, node):
    """Stop ``node`` (a crash) just before the first transaction that inserted a check-in
    commits; start it again after. Yields ``{"stopped": whether it did, ...}``."""
    state = {"checkin": False, "stopped": False}

    def saw(_conn, _cursor, statement, *_args):
        state["checkin"] |= statement.lstrip().upper().startswith("INSERT INTO CHECKINS")

    def at_commit(_conn):
        if state["checkin"] and not state["stopped"]:
            state["stopped"] = True
            node.stop("immediate")

    event.listen(engine, "before_cursor_execute", saw)
    event.listen(engine, "commit", at_commit)
    try:
        yield state
    finally:
        event.remove(engine, "commit", at_commit)
        event.remove(engine, "before_cursor_execute", saw)
        if state["stopped"]:
            node.start()


def test_a_worker_lost_at_commit_is_a_503_and_the_retry_stores_it_once(cluster, own_app):
    """The worker dies after every statement ran, as the coordinator commits: Citus
    reports that as an internal error (XX000), not as a connection failure; the phone must
    still be told 503 with Retry-After, and its retry (same Idempotency-Key) store the
    check-in once."""
    cluster, url = cluster
    send = app_send(own_app)
    stopped = cluster.nodes[1]
    users = users_on_each_worker(send, url, 1, first=100)
    phone = _on_worker(url, [Phone(send, user, {}) for user in users], stopped.port)[0]
    phone.venue = venue_of(send, phone.user, 100)
    phone.check_in()  # the venue's first check-in writes its city (every node)
    body = {"venue_id": phone.venue["id"], "location": phone.venue["location"]}
    headers = {**phone.user["headers"], "Idempotency-Key": "lost-at-commit"}
    with _worker_dies_at_commit(db.state(own_app).engine, stopped) as state:
        status, answer, answer_headers = send("/api/v1/checkins", body, headers)
    assert state["stopped"], "the check-in never reached its commit"
    assert status == 503, answer
    assert int(answer_headers["Retry-After"]) >= 1
    retried = wait_until(
        lambda: (reply := send("/api/v1/checkins", body, headers))[0] == 201 and reply,
        "the retry to be answered 201",
        every_s=0.2,
    )
    phone.acknowledged.append(retried[1]["checkin"]["id"])
    problems = lost_or_half_written(url, [phone])
    assert not problems, "\n".join(problems)
