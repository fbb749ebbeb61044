"""The live notification stream end to end: gunicorn (two gevent workers) on the test
database, a real HTTP client reading Server-Sent Events, PostgreSQL LISTEN/NOTIFY."""

import json
import queue
import threading
import time

import httpx
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from service.models import NotificationStream
from service.notifications.stream_leases import STREAM_LOCKS, Leases, evict_beyond_limit
from tests.conftest import TEST_DATABASE_URL, Actions, befriend, offset_point
from tests.live import process_env, running_api, wait_until

pytestmark = pytest.mark.gunicorn

HERE = (52.52, 13.405)  # Berlin
JWT_SECRET = "test-secret-" + "x" * 40  # the test app's, so its tokens work here


@pytest.fixture(scope="module")
def server(tmp_path_factory, engine):
    env = process_env(TEST_DATABASE_URL, JWT_SECRET, STREAM_HEARTBEAT_S="0.5")
    log = tmp_path_factory.mktemp("stream") / "gunicorn.log"
    with running_api(env, log, workers=2) as base:
        yield base


class Stream:
    """Reads one SSE stream in a thread: events (with arrival times) and comments."""

    def __init__(self, base: str, token: str, last_event_id: int | None = None):
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.client = httpx.Client(base_url=base, timeout=httpx.Timeout(5.0, read=None))
        self.events: queue.Queue = queue.Queue()
        self.comments: list[str] = []
        self.opened = threading.Event()
        self.ended = threading.Event()
        self.status = None
        self._thread = threading.Thread(target=self._read, args=(headers,), daemon=True)
        self._thread.start()
        assert self.opened.wait(10), "the stream did not open"

    def _read(self, headers):
        fields: dict = {}
        try:
            with self.client.stream("GET", "/api/v1/me/notifications/stream", headers=headers) as r:
                self.status = r.status_code
                for line in r.iter_lines():
                    if line.startswith("retry:") or self.status != 200:
                        self.opened.set()
                    if line.startswith(":"):
                        self.comments.append(line)
                    elif line == "":
                        if "data" in fields:
                            fields["at"] = time.monotonic()
                            self.events.put(fields)
                        fields = {}
                    else:
                        name, _, value = line.partition(":")
                        fields[name] = value.lstrip(" ")
        except httpx.HTTPError:
            pass
        finally:
            self.opened.set()
            self.ended.set()

    def next(self, timeout_s: float = 5.0) -> dict:
        """The next ``notification`` event, parsed."""
        while True:
            event = self.events.get(timeout=timeout_s)
            if event.get("event") == "notification":
                return {**json.loads(event["data"]), "sse_id": event["id"], "at": event["at"]}

    def closed_by_server(self, timeout_s: float = 5.0) -> dict:
        """The ``closed`` event the server sends last, once the stream has ended."""
        assert self.ended.wait(timeout_s), "the stream is still open"
        events = []
        while not self.events.empty():
            events.append(self.events.get_nowait())
        assert events and events[-1].get("event") == "closed", events
        return json.loads(events[-1]["data"])

    def close(self) -> None:
        self.client.close()
        self._thread.join(5)


@pytest.fixture
def people(live_app, engine):
    """Three mutual contacts; B has checked in at HERE (so A and C are near)."""
    client = live_app.test_client()
    actions = Actions(client)
    a, b, c = (actions.register() for _ in range(3))
    for one, other in ((a, b), (b, c), (a, c)):
        befriend(client, one, other)
    actions.check_in(b, actions.venue(b, *HERE))
    yield actions, a, b, c
    _wait_until_the_server_let_go(engine)


def _wait_until_the_server_let_go(engine, timeout_s: float = 5.0) -> None:
    """Wait until the server has ended every stream (its row deleted, then its lease
    unlocked): the next test truncates with RESTART IDENTITY, and must not get ids that a
    closing stream still holds."""
    leases = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = :space "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    deadline = time.monotonic() + timeout_s
    while True:
        with engine.connect() as conn:
            held = conn.scalar(leases, {"space": STREAM_LOCKS})
        if held == 0:  # rows left are dead ones (the truncation takes them)
            return
        assert time.monotonic() < deadline, f"{held} leases still held"
        time.sleep(0.05)


def check_in_over_http(base: str, user: dict, venue: dict) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/checkins",
        headers=user["headers"],
        json={"venue_id": venue["id"], "location": venue["location"]},
        timeout=10,
    )


def test_a_notification_reaches_an_open_stream_within_a_second(server, people):
    actions, a, b, _c = people
    venue = actions.venue(a, *offset_point(HERE, 250))
    stream = Stream(server, b["access_token"])
    try:
        assert stream.status == 200
        response = check_in_over_http(server, a, venue)
        answered = time.monotonic()
        assert response.status_code == 201
        note = stream.next()
        assert note["kind"] == "nearby" and note["data"]["user"]["handle"] == a["user"]["handle"]
        assert note["data"]["user"]["identities"] == []  # read back with faces (none verified)
        assert str(note["id"]) == note["sse_id"]
        assert note["at"] - answered < 1.0
    finally:
        stream.close()


def test_heartbeat_comments_keep_the_stream_alive(server, people):
    _actions, _a, b, _c = people
    stream = Stream(server, b["access_token"])
    try:
        wait_until(
            lambda: stream.comments.count(": keep-alive") >= 2, "two heartbeats", timeout_s=10
        )
    finally:
        stream.close()


def test_resume_after_last_event_id(server, people):
    actions, a, b, c = people
    stream = Stream(server, b["access_token"])
    try:
        check_in_over_http(server, a, actions.venue(a, *offset_point(HERE, 100)))
        seen = stream.next()
    finally:
        stream.close()
    check_in_over_http(server, c, actions.venue(c, *offset_point(HERE, 150)))
    missed = [n["id"] for n in _inbox(server, b) if n["id"] > seen["id"]]
    assert missed
    resumed = Stream(server, b["access_token"], last_event_id=seen["id"])
    try:
        got = [resumed.next()["id"] for _ in missed]
        assert got == sorted(missed)
        with pytest.raises(queue.Empty):
            resumed.next(timeout_s=0.8)  # nothing twice
    finally:
        resumed.close()


def test_the_stream_catches_up_after_the_listener_lost_its_connection(server, people, engine):
    actions, a, b, _c = people
    stream = Stream(server, b["access_token"])
    try:
        check_in_over_http(server, a, actions.venue(a, *offset_point(HERE, 100)))
        stream.next()
        with engine.begin() as conn:
            killed = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'irl-stream-listener'"
                )
            ).all()
        assert killed
        check_in_over_http(server, _c, actions.venue(_c, *offset_point(HERE, 120)))
        note = stream.next(timeout_s=10)
        assert note["data"]["user"]["handle"] == _c["user"]["handle"]
    finally:
        stream.close()


def test_the_stream_needs_a_token_and_a_sane_last_event_id(server, people):
    _actions, _a, b, _c = people
    assert httpx.get(f"{server}/api/v1/me/notifications/stream").status_code == 401
    response = httpx.get(
        f"{server}/api/v1/me/notifications/stream",
        headers={"Authorization": f"Bearer {b['access_token']}", "Last-Event-ID": "nope"},
    )
    assert response.status_code == 422 and response.json()["message"]


def _inbox(base: str, user: dict) -> list[dict]:
    response = httpx.get(
        f"{base}/api/v1/me/notifications", headers=user["headers"], params={"limit": 100}
    )
    assert response.status_code == 200
    return response.json()["items"]


def test_a_worker_shutdown_ends_open_streams_promptly(tmp_path, people):
    """SIGTERM ends streams at once (clients reconnect elsewhere) instead of holding the
    worker for its whole graceful timeout."""
    _actions, _a, b, _c = people
    env = process_env(TEST_DATABASE_URL, JWT_SECRET, STREAM_HEARTBEAT_S="30")
    with running_api(env, tmp_path / "gunicorn.log") as base:
        stream = Stream(base, b["access_token"])
        stopping = time.monotonic()
    stopped = time.monotonic() - stopping
    stream.close()
    assert stopped < 5.0


def _stream_rows(engine, user: dict) -> list[int]:
    with engine.connect() as conn:
        return conn.scalars(
            select(NotificationStream.id)
            .where(NotificationStream.user_id == user["user"]["id"])
            .order_by(NotificationStream.opened_at)
        ).all()


def _close_all(streams) -> None:
    for stream in streams:  # all at once: each read ends at the next heartbeat
        stream.client.close()
    for stream in streams:
        stream.close()


def test_a_sixth_stream_closes_the_oldest_and_the_five_others_keep_receiving(
    server, people, engine
):
    actions, a, b, c = people
    actions.check_in(c, actions.venue(c, *offset_point(HERE, 50)))  # C is near HERE too
    others = [Stream(server, c["access_token"]) for _ in range(2)]
    streams = [Stream(server, b["access_token"]) for _ in range(6)]
    try:
        farewell = streams[0].closed_by_server()
        assert farewell["reason"] == "too_many_streams" and "5" in farewell["message"]
        assert len(_stream_rows(engine, b)) == 5
        assert len(_stream_rows(engine, c)) == 2  # another user's streams are not touched
        assert check_in_over_http(server, a, actions.venue(a, *offset_point(HERE, 200))).is_success
        for stream in streams[1:] + others:
            assert stream.next()["data"]["user"]["handle"] == a["user"]["handle"]
            assert not stream.ended.is_set()
    finally:
        _close_all(others + streams)


def test_the_oldest_stream_is_closed_in_whichever_process_holds_it(server, people, engine):
    """The test process plays another server: it opens B's five newer streams, and its
    eviction reaches the gunicorn worker that holds the oldest."""
    _actions, _a, b, _c = people
    oldest = Stream(server, b["access_token"])
    elsewhere = Leases(TEST_DATABASE_URL, on_gone=lambda _ids: None)
    try:
        newer = [elsewhere.open(b["user"]["id"]) for _ in range(5)]
        with Session(engine) as session:
            evicted = evict_beyond_limit(db_session=session, user_id=b["user"]["id"]).evicted
            session.commit()
        assert len(evicted) == 1 and evicted[0] not in newer
        assert oldest.closed_by_server()["reason"] == "too_many_streams"
        assert sorted(_stream_rows(engine, b)) == sorted(newer)
    finally:
        oldest.close()
        elsewhere.dispose()


def test_streams_left_by_a_crashed_process_block_nobody(server, people, engine):
    """Rows whose process died (no lease lock) never count: they are deleted when in the
    way, and no live stream is closed in their place."""
    actions, a, b, _c = people
    first = Stream(server, b["access_token"])
    with engine.begin() as conn:  # a worker that died holding four newer streams of B
        dead = conn.scalars(
            insert(NotificationStream).returning(NotificationStream.id),
            [{"user_id": b["user"]["id"]}] * 4,
        ).all()
    streams = [first] + [Stream(server, b["access_token"]) for _ in range(4)]
    try:
        rows = _stream_rows(engine, b)
        assert len(rows) == 5 and not set(rows) & set(dead)
        assert check_in_over_http(server, a, actions.venue(a, *offset_point(HERE, 200))).is_success
        for stream in streams:
            assert stream.next()["kind"] == "nearby"
            assert not stream.ended.is_set()
    finally:
        _close_all(streams)


def test_a_password_change_ends_the_thiefs_open_streams(server, people, engine):
    """Found in review: a stolen token's open stream kept delivering nearby and meeting
    notifications for up to 15 minutes after the victim changed the password."""
    _actions, _a, b, _c = people
    stolen = [Stream(server, b["access_token"]) for _ in range(2)]
    try:
        changed = httpx.post(
            f"{server}/api/v1/me/password",
            headers=b["headers"],
            json={"current_password": "correct horse battery", "new_password": "a new long one"},
            timeout=10,
        )
        assert changed.status_code == 200, changed.text
        for stream in stolen:
            farewell = stream.closed_by_server()
            assert farewell["reason"] == "signed_out"
        assert _stream_rows(engine, b) == []
    finally:
        _close_all(stolen)
