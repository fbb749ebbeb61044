"""Server-Sent Events fed by PostgreSQL LISTEN/NOTIFY (no polling of the table).

Each worker process keeps one connection LISTENing on the outbox channel and hands every
payload to the open streams of its recipient in that process. A stream reads the table
only to catch up: after ``Last-Event-ID`` when it connects, and after the listener lost
its connection (it may have missed announcements meanwhile). Under gunicorn's gevent
worker each open stream is a greenlet, so one worker holds thousands of them; psycopg 3
cooperates with gevent by itself.

A user keeps at most 5 open streams (``stream_leases``): opening a sixth ends the oldest
with a last ``event: closed`` saying why, whichever process holds it, through the same
LISTEN connection.
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
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from service.database import db, libpq_dsn
from service.notifications import inbox
from service.notifications.outbox import STREAM_CHANNEL
from service.notifications.stream_leases import CLOSE_CHANNEL, Leases, evict_beyond_limit
from service.ops import metrics

log = logging.getLogger(__name__)
RESYNC = "resync"
WAKE = "wake"  # look at the subscription's ``ended`` reason
SHUTDOWN = "shutdown"
EVICTED = "too_many_streams"
SIGNED_OUT = "signed_out"
LOST = "lost"
RETRY_MS = 3000
CATCH_UP_PAGE = 100
CATCH_UP_PAGES = 10
QUEUE_SIZE = 256
REMEMBERED = 1024


class Subscription:
    """One open stream in this process: its queue, and why it must end (if it must)."""

    def __init__(self, user_id: int):
        self.user_id = user_id
        self.stream_id: int | None = None
        self.queue: queue.Queue = queue.Queue(QUEUE_SIZE)
        self.ended: str | None = None

    def end(self, reason: str) -> None:
        """Make the stream say ``reason`` and stop."""
        if self.ended is None:
            self.ended = reason
        try:
            self.queue.put_nowait(WAKE)
        except queue.Full:
            _replace_with_resync(self.queue)  # the stream looks at ``ended`` first


class Hub:
    """One LISTEN connection per process, fanning payloads out to local subscribers."""

    def __init__(self, dsn: str, url: str, reconnect_s: float = 1.0):
        self.dsn = dsn
        self.reconnect_s = reconnect_s
        self.leases = Leases(url, on_gone=self._end_gone)
        self._subscribers: dict[int, set[Subscription]] = defaultdict(set)
        self._by_stream: dict[int, Subscription] = {}
        self._lock = threading.Lock()
        self._started = False
        self.listening = threading.Event()

    def subscribe(self, user_id: int) -> Subscription:
        """A subscription that receives this user's notifications from now on."""
        subscription = Subscription(user_id)
        with self._lock:
            self._subscribers[user_id].add(subscription)
            if not self._started:
                self._started = True
                threading.Thread(
                    target=self._listen_forever, name="irl-listen", daemon=True
                ).start()
        return subscription

    def attach(self, subscription: Subscription, stream_id: int) -> None:
        """Name the subscription by its registered stream id (so it can be closed)."""
        with self._lock:
            subscription.stream_id = stream_id
            self._by_stream[stream_id] = subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop delivering to ``subscription``."""
        with self._lock:
            self._by_stream.pop(subscription.stream_id, None)
            subscriptions = self._subscribers.get(subscription.user_id)
            if subscriptions is not None:
                subscriptions.discard(subscription)
                if not subscriptions:
                    del self._subscribers[subscription.user_id]

    def _deliver(self, user_id: int, item) -> None:
        with self._lock:
            subscriptions = list(self._subscribers.get(user_id, ()))
        for subscription in subscriptions:
            try:
                subscription.queue.put_nowait(item)
            except queue.Full:  # a stalled client: make it re-read the table instead
                _replace_with_resync(subscription.queue)

    def _everyone(self) -> list[Subscription]:
        with self._lock:
            return [one for subscriptions in self._subscribers.values() for one in subscriptions]

    def _resync_all(self) -> None:
        for subscription in self._everyone():
            _replace_with_resync(subscription.queue)

    def close_all(self) -> None:
        """End every open stream (the worker is shutting down; clients reconnect)."""
        for subscription in self._everyone():
            subscription.end(SHUTDOWN)

    def _close_streams(self, stream_ids, reason: str) -> None:
        with self._lock:  # most are held by other processes
            found = [self._by_stream.get(stream_id) for stream_id in stream_ids]
        for subscription in found:
            if subscription is not None:
                subscription.end(reason)

    def _end_gone(self, stream_ids: set[int]) -> None:
        self._close_streams(sorted(stream_ids), LOST)

    def _listen_forever(self) -> None:
        while True:
            try:
                with psycopg.connect(
                    self.dsn, autocommit=True, application_name="irl-stream-listener"
                ) as conn:
                    conn.execute(f"LISTEN {STREAM_CHANNEL}")
                    conn.execute(f"LISTEN {CLOSE_CHANNEL}")
                    self.listening.set()
                    # Whatever was committed before LISTEN took hold (the first streams
                    # of this process, or during an outage) is read from the table.
                    self._resync_all()
                    self._check_leases()
                    while True:
                        for note in conn.notifies(timeout=30.0):
                            if note.channel == CLOSE_CHANNEL:
                                self._dispatch_close(note.payload)
                            else:
                                self._dispatch(note.payload)
                        conn.execute("SELECT 1")  # notice a dead connection while idle
            except psycopg.Error as exc:
                self.listening.clear()
                log.warning("notification listener lost its connection: %s", exc)
                time.sleep(self.reconnect_s)

    def _check_leases(self) -> None:
        """Streams evicted while nobody listened end now; lost leases are taken again."""
        try:
            self.leases.check()
        except DBAPIError as exc:
            log.warning("could not check the stream leases: %s", exc)

    def _dispatch(self, payload: str) -> None:
        try:
            message = json.loads(payload)
            user_id = int(message["user_id"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed notification payload")
            return
        self._deliver(user_id, message.get("notification") or {"id": message.get("id")})

    def _dispatch_close(self, payload: str) -> None:
        try:
            message = json.loads(payload)
            stream_ids = [int(stream_id) for stream_id in message["stream_ids"]]
            reason = SIGNED_OUT if message.get("reason") == SIGNED_OUT else EVICTED
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("ignoring a malformed stream close payload")
            return
        self._close_streams(stream_ids, reason)


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
        url = app.config["DATABASE_URL"]
        hub = app.extensions.setdefault("irl_stream_hub", Hub(libpq_dsn(url), url))
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


def _open(app: Flask, hub: Hub, subscription: Subscription) -> int:
    """Register the stream, then end the user's oldest beyond the limit (maybe in
    another process)."""
    stream_id = hub.leases.open(subscription.user_id)
    hub.attach(subscription, stream_id)
    with Session(db.state(app).engine) as session:
        eviction = evict_beyond_limit(db_session=session, user_id=subscription.user_id)
        session.commit()
    if stream_id not in eviction.kept:  # a newer stream evicted it before it was attached
        subscription.end(EVICTED)
    return stream_id


def _farewell(reason: str) -> str:
    if reason == EVICTED:
        message = (
            "You opened more than 5 notification streams; this one, the oldest, is closed. "
            "Do not reconnect it while the newer ones are open."
        )
    elif reason == SIGNED_OUT:
        message = "You were signed out everywhere (a password change or sign-out); sign in again."
    elif reason == SHUTDOWN:
        return ": the server is restarting; reconnect\n\n"
    else:
        message = "The server lost track of this stream; reconnect."
    data = json.dumps({"reason": reason, "message": message}, separators=(",", ":"))
    return f"event: closed\ndata: {data}\n\n"


def _frame(shown: dict) -> str:
    data = json.dumps(shown, default=lambda value: value.isoformat(), separators=(",", ":"))
    return f"id: {shown['id']}\nevent: notification\ndata: {data}\n\n"


def events(
    *, app: Flask, user_id: int, last_id: int | None, expires_at: float, heartbeat_s: float
) -> Iterator[str]:
    """The SSE body: catch up after ``last_id``, then live notifications, a comment every
    ``heartbeat_s``; ends when the access token expires (the client reconnects)."""
    hub = hub_of(app)
    subscription = hub.subscribe(user_id)  # before catching up, so nothing falls between
    stream_id = None
    metrics.OPEN_STREAMS.inc()
    sent: deque[int] = deque(maxlen=REMEMBERED)
    try:
        stream_id = _open(app, hub, subscription)
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
            backlog = []
            if subscription.ended is not None:
                yield _farewell(subscription.ended)
                return
            remaining = expires_at - time.time()
            if remaining <= 0:
                yield 'event: expired\ndata: {"message": "Token expired; reconnect."}\n\n'
                return
            try:
                item = subscription.queue.get(timeout=min(heartbeat_s, remaining))
            except queue.Empty:
                yield ": keep-alive\n\n"
                continue
            if item == WAKE:
                continue
            # one naming a person is read back from the inbox, which adds their face
            if item == RESYNC or "kind" not in item or inbox.names_someone(item):
                backlog = _catch_up(app, user_id, newest if item == RESYNC else item["id"] - 1)
            else:
                backlog = [item]
    finally:
        metrics.OPEN_STREAMS.dec()
        hub.unsubscribe(subscription)
        # attached but _open failed after (e.g. evicting others): the lease must go too
        lease = stream_id if stream_id is not None else subscription.stream_id
        if lease is not None:
            hub.leases.close(lease)
