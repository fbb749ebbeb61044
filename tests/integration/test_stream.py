"""The live notification stream end to end: gunicorn (gevent workers) on the test
database, a real HTTP client reading Server-Sent Events, PostgreSQL LISTEN/NOTIFY."""

import json
import queue
import threading
import time

import httpx
import pytest
from sqlalchemy import text

from tests.conftest import TEST_DATABASE_URL, Actions, befriend, offset_point
from tests.live import process_env, running_api

HERE = (52.52, 13.405)  # Berlin
JWT_SECRET = "test-secret-" + "x" * 40  # the test app's, so its tokens work here


@pytest.fixture(scope="module")
def server(tmp_path_factory, engine):
    env = process_env(TEST_DATABASE_URL, JWT_SECRET, STREAM_HEARTBEAT_S="0.5")
    with running_api(env, tmp_path_factory.mktemp("stream") / "gunicorn.log") as base:
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

    def next(self, timeout_s: float = 5.0) -> dict:
        """The next ``notification`` event, parsed."""
        while True:
            event = self.events.get(timeout=timeout_s)
            if event.get("event") == "notification":
                return {**json.loads(event["data"]), "sse_id": event["id"], "at": event["at"]}

    def close(self) -> None:
        self.client.close()
        self._thread.join(5)


@pytest.fixture
def people(live_app):
    """Three mutual contacts; B has checked in at HERE (so A and C are near)."""
    client = live_app.test_client()
    actions = Actions(client)
    a, b, c = (actions.register() for _ in range(3))
    for one, other in ((a, b), (b, c), (a, c)):
        befriend(client, one, other)
    actions.check_in(b, actions.venue(b, *HERE))
    return actions, a, b, c


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
        assert str(note["id"]) == note["sse_id"]
        assert note["at"] - answered < 1.0
    finally:
        stream.close()


def test_heartbeat_comments_keep_the_stream_alive(server, people):
    _actions, _a, b, _c = people
    stream = Stream(server, b["access_token"])
    try:
        time.sleep(1.6)
        assert stream.comments.count(": keep-alive") >= 2
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
