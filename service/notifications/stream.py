"""Server-Sent Events fed by PostgreSQL LISTEN/NOTIFY (no polling of the table).

Each worker process keeps one connection LISTENing on the outbox channel and hands every
payload to the open streams of its recipient in that process. A stream reads the table
only to catch up: after ``Last-Event-ID`` when it connects, and after the listener lost
its connection (it may have missed announcements meanwhile). Under gunicorn's gevent
worker each open stream is a greenlet, so one worker holds thousands of them; psycopg 3
cooperates with gevent by itself.
"""

import json
import logging
import queue
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator

import psycopg
from flask import Flask
from sqlalchemy.orm import Session

from service.database import db, libpq_dsn
from service.notifications import inbox
from service.notifications.outbox import STREAM_CHANNEL
from service.ops import metrics

log = logging.getLogger(__name__)
RESYNC = "resync"
CLOSE = "close"
RETRY_MS = 3000
CATCH_UP_PAGE = 100
CATCH_UP_PAGES = 10
QUEUE_SIZE = 256
REMEMBERED = 1024


class Hub:
    """One LISTEN connection per process, fanning payloads out to local subscribers."""

    def __init__(self, dsn: str, reconnect_s: float = 1.0):
        self.dsn = dsn
        self.reconnect_s = reconnect_s
        self._subscribers: dict[int, set[queue.Queue]] = defaultdict(set)
        self._lock = threading.Lock()
        self._started = False
        self.listening = threading.Event()

    def subscribe(self, user_id: int) -> queue.Queue:
        """A queue that receives this user's notifications from now on."""
        inbox_queue: queue.Queue = queue.Queue(QUEUE_SIZE)
        with self._lock:
            self._subscribers[user_id].add(inbox_queue)
            if not self._started:
                self._started = True
                threading.Thread(
                    target=self._listen_forever, name="irl-listen", daemon=True
                ).start()
        return inbox_queue

    def unsubscribe(self, user_id: int, inbox_queue: queue.Queue) -> None:
        """Stop delivering to ``inbox_queue``."""
        with self._lock:
            queues = self._subscribers.get(user_id)
            if queues is not None:
                queues.discard(inbox_queue)
                if not queues:
                    del self._subscribers[user_id]

    def _deliver(self, user_id: int, item) -> None:
        with self._lock:
            queues = list(self._subscribers.get(user_id, ()))
        for inbox_queue in queues:
            try:
                inbox_queue.put_nowait(item)
            except queue.Full:  # a stalled client: make it re-read the table instead
                _replace_with_resync(inbox_queue)

    def _resync_all(self) -> None:
        with self._lock:
            everyone = [q for queues in self._subscribers.values() for q in queues]
        for inbox_queue in everyone:
            _replace_with_resync(inbox_queue)

    def close_all(self) -> None:
        """End every open stream (the worker is shutting down; clients reconnect)."""
        with self._lock:
            everyone = [q for queues in self._subscribers.values() for q in queues]
        for inbox_queue in everyone:
            inbox_queue.put(CLOSE)

    def _listen_forever(self) -> None:
        while True:
            try:
                with psycopg.connect(
                    self.dsn, autocommit=True, application_name="irl-stream-listener"
                ) as conn:
                    conn.execute(f"LISTEN {STREAM_CHANNEL}")
                    self.listening.set()
                    # Whatever was committed before LISTEN took hold (the first streams
                    # of this process, or during an outage) is read from the table.
                    self._resync_all()
                    while True:
                        for note in conn.notifies(timeout=30.0):
                            self._dispatch(note.payload)
                        conn.execute("SELECT 1")  # notice a dead connection while idle
            except psycopg.Error as exc:
                self.listening.clear()
                log.warning("notification listener lost its connection: %s", exc)
                time.sleep(self.reconnect_s)

    def _dispatch(self, payload: str) -> None:
        try:
            message = json.loads(payload)
            user_id = int(message["user_id"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed notification payload")
            return
        self._deliver(user_id, message.get("notification") or {"id": message.get("id")})


def _replace_with_resync(inbox_queue: queue.Queue) -> None:
    """Empty the queue and leave one RESYNC, so the stream catches up from the table."""
    try:
        while True:
            inbox_queue.get_nowait()
    except queue.Empty:
        pass
    inbox_queue.put_nowait(RESYNC)


_HUBS: list[Hub] = []


def hub_of(app: Flask) -> Hub:
    """The process's hub for this app, created on first use."""
    hub = app.extensions.get("irl_stream_hub")
    if hub is None:
        hub = app.extensions.setdefault(
            "irl_stream_hub", Hub(libpq_dsn(app.config["DATABASE_URL"]))
        )
        _HUBS.append(hub)
    return hub


def close_all_streams() -> None:
    """End the open streams of this process (called when a worker shuts down)."""
    for hub in _HUBS:
        hub.close_all()


def _catch_up(app: Flask, user_id: int, last_id: int) -> list[dict]:
    items = []
    with Session(db.state(app).engine) as session:
        for _ in range(CATCH_UP_PAGES):
            page = inbox.after(
                db_session=session, user_id=user_id, last_id=last_id, limit=CATCH_UP_PAGE
            )
            items += page
            if len(page) < CATCH_UP_PAGE:
                break
            last_id = page[-1]["id"]
    return items


def _newest_id(app: Flask, user_id: int) -> int:
    with Session(db.state(app).engine) as session:
        return inbox.newest_id(db_session=session, user_id=user_id)


def _frame(shown: dict) -> str:
    data = json.dumps(shown, default=lambda value: value.isoformat(), separators=(",", ":"))
    return f"id: {shown['id']}\nevent: notification\ndata: {data}\n\n"


def events(
    *, app: Flask, user_id: int, last_id: int | None, expires_at: float, heartbeat_s: float
) -> Iterator[str]:
    """The SSE body: catch up after ``last_id``, then live notifications, a comment every
    ``heartbeat_s``; ends when the access token expires (the client reconnects)."""
    hub = hub_of(app)
    inbox_queue = hub.subscribe(user_id)  # before catching up, so nothing falls between
    metrics.OPEN_STREAMS.inc()
    sent: deque[int] = deque(maxlen=REMEMBERED)
    try:
        yield f"retry: {RETRY_MS}\n\n"
        if last_id is None:  # live from now on: the inbox has the past
            newest, backlog = _newest_id(app, user_id), []
        else:
            newest, backlog = last_id, _catch_up(app, user_id, last_id)
        while True:
            for shown in backlog:
                if shown["id"] not in sent:
                    sent.append(shown["id"])
                    newest = max(newest, shown["id"])
                    yield _frame(shown)
            remaining = expires_at - time.time()
            if remaining <= 0:
                yield 'event: expired\ndata: {"message": "Token expired; reconnect."}\n\n'
                return
            try:
                item = inbox_queue.get(timeout=min(heartbeat_s, remaining))
            except queue.Empty:
                backlog = []
                yield ": keep-alive\n\n"
                continue
            if item == CLOSE:
                yield ": the server is restarting; reconnect\n\n"
                return
            if item == RESYNC or "kind" not in item:
                backlog = _catch_up(app, user_id, newest if item == RESYNC else item["id"] - 1)
            else:
                backlog = [item]
    finally:
        metrics.OPEN_STREAMS.dec()
        hub.unsubscribe(user_id, inbox_queue)
