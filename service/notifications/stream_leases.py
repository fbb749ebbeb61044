"""Who holds which notification stream, across processes: at most 5 per user.

Each open stream is a row of ``notification_streams`` and a session-level advisory lock
on one connection per process (the lease connection). The row and its lock appear in one
statement, and PostgreSQL drops the locks of a connection that dies, so a row without its
lock belongs to a crashed process: it is deleted when it is in the way and never counts.
Opening a stream that makes more than 5 live ones deletes the oldest and announces their
ids on ``CLOSE_CHANNEL``; whichever process holds them ends them (``stream.Hub``).
"""

import json
import logging
import threading
from collections.abc import Callable
from typing import NamedTuple

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Integer,
    cast,
    column,
    create_engine,
    delete,
    func,
    insert,
    literal,
    select,
    table,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from service.models import NotificationStream

log = logging.getLogger(__name__)
MAX_STREAMS = 5
CLOSE_CHANNEL = "irl_stream_close"
# Two-int4 advisory keys live apart from the single-bigint keys used elsewhere.
STREAM_LOCKS = 0x1575  # (STREAM_LOCKS, stream id mod 2^31): the stream is open
USER_LOCKS = 0x1576  # (USER_LOCKS, user id mod 2^31): one eviction per user at a time
_INT4 = 2**31

_pg_locks = table(
    "pg_locks",
    column("locktype"),
    column("database"),
    column("classid"),
    column("objid"),
    column("objsubid"),
    column("granted"),
)
_pg_database = table("pg_database", column("oid"), column("datname"))


def _key(ids):
    """The int4 half of an advisory key for a bigint id (column or value)."""
    return cast(ids % literal(_INT4, BigInteger), Integer)


def _locked(stream_id):
    """True where some connection to this database holds ``stream_id``'s lease."""
    this_database = select(_pg_database.c.oid).where(
        _pg_database.c.datname == func.current_database()
    )
    return (
        select(literal(True))
        .where(
            _pg_locks.c.locktype == "advisory",
            _pg_locks.c.database == this_database.scalar_subquery(),
            _pg_locks.c.classid == STREAM_LOCKS,
            _pg_locks.c.objid == cast(_key(stream_id), BigInteger),
            _pg_locks.c.objsubid == 2,
            _pg_locks.c.granted,
        )
        .exists()
    )


class Eviction(NamedTuple):
    """The user's stream rows left after an eviction (newest first), and the live ones
    it closed."""

    kept: list[int]
    evicted: list[int]


def evict_beyond_limit(
    *, db_session: Session, user_id: int, limit: int = MAX_STREAMS, reason: str | None = None
) -> Eviction:
    """Delete ``user_id``'s dead stream rows and the oldest live ones beyond ``limit``,
    and announce the live ones on ``CLOSE_CHANNEL`` (at commit), with ``reason`` (default:
    too many streams)."""
    db_session.execute(
        select(func.pg_advisory_xact_lock(USER_LOCKS, _key(literal(user_id, BigInteger))))
    )
    rows = db_session.execute(
        select(NotificationStream.id, _locked(NotificationStream.id))
        .where(NotificationStream.user_id == user_id)
        .order_by(NotificationStream.opened_at.desc(), NotificationStream.id.desc())
    ).all()
    if len(rows) <= limit:
        return Eviction([stream_id for stream_id, _live in rows], [])
    live = [stream_id for stream_id, locked in rows if locked]
    dead = [stream_id for stream_id, locked in rows if not locked]
    kept, evicted = live[:limit], live[limit:]
    if dead or evicted:
        db_session.execute(
            delete(NotificationStream).where(NotificationStream.id.in_(dead + evicted))
        )
    if evicted:
        message = {"user_id": user_id, "stream_ids": evicted}
        payload = json.dumps(message | ({"reason": reason} if reason else {}))
        db_session.execute(select(func.pg_notify(CLOSE_CHANNEL, payload)))
    return Eviction(kept, evicted)


class Leases:
    """This process's stream rows and the one connection holding their locks.

    When that connection is lost (a database restart), its locks go with it: the next use
    reconnects and takes them again for the rows that are left, and ``on_gone`` hears of
    the streams whose rows were deleted meanwhile, which must end."""

    def __init__(self, url: str, on_gone: Callable[[set[int]], None]):
        self._engine: Engine = create_engine(
            url,
            poolclass=NullPool,
            connect_args={
                "connect_timeout": 5,
                "application_name": "irl-stream-leases",
                # a lease lock is never contended; if it ever is, fail rather than hang
                "options": "-c lock_timeout=5000 -c statement_timeout=15000",
            },
        )
        self._on_gone = on_gone
        self._conn: Connection | None = None
        self._held: set[int] = set()
        self._lock = threading.Lock()

    def open(self, user_id: int) -> int:
        """Register a stream of ``user_id`` held by this process; its id."""
        statement = (
            insert(NotificationStream)
            .values(user_id=user_id)
            .returning(
                NotificationStream.id,
                func.pg_advisory_lock(STREAM_LOCKS, _key(NotificationStream.id)),
            )
        )
        with self._lock:
            stream_id = self._run(lambda conn: conn.execute(statement).scalar_one())
            self._held.add(stream_id)
        return stream_id

    def close(self, stream_id: int) -> None:
        """Forget a stream that ended (its row may already be gone: evicted)."""
        unlock = select(func.pg_advisory_unlock(STREAM_LOCKS, _key(literal(stream_id, BigInteger))))
        forget = delete(NotificationStream).where(NotificationStream.id == stream_id)
        with self._lock:
            self._held.discard(stream_id)
            if self._conn is None:  # nothing held: the next connection will not lock it
                return
            try:
                self._conn.execute(forget)
                self._conn.execute(unlock)
            except DBAPIError as exc:  # its lock died with the connection
                log.warning("stream lease connection lost: %s", exc)
                self._drop()

    def check(self) -> None:
        """Reconnect if the connection died, and report streams whose rows are gone
        (after the listener was away, a close announcement may have been missed)."""
        with self._lock:
            if not self._held:
                return
            rows = select(NotificationStream.id).where(NotificationStream.id.in_(self._held))
            kept = set(self._run(lambda conn: conn.scalars(rows).all()))
            gone = self._held - kept
            self._held = kept
        if gone:
            self._on_gone(gone)

    def _run(self, work):
        """``work(connection)``, reconnecting once if the connection was lost."""
        for attempt in (1, 2):
            if self._conn is None:
                self._connect()
            try:
                return work(self._conn)
            except DBAPIError as exc:
                if attempt == 2 or not exc.connection_invalidated:
                    raise
                log.warning("stream lease connection lost, reconnecting: %s", exc)
                self._drop()
        raise AssertionError("unreachable")

    def _connect(self) -> None:
        conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self._conn = conn
        if self._held:  # locks of an earlier connection: take them again
            relocked = conn.scalars(
                select(NotificationStream.id)
                .where(NotificationStream.id.in_(self._held))
                .add_columns(func.pg_advisory_lock(STREAM_LOCKS, _key(NotificationStream.id)))
            ).all()
            gone = self._held - set(relocked)
            self._held -= gone
            if gone:
                self._on_gone(gone)

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()
                self._conn.close()
            except DBAPIError:
                pass
            self._conn = None

    def dispose(self) -> None:
        """Close the lease connection (its locks go with it)."""
        with self._lock:
            self._held.clear()
            self._drop()
        self._engine.dispose()


def close_all(*, db_session: Session, user_id: int, reason: str) -> None:
    """End every open stream of ``user_id`` (signed out everywhere), in whichever process
    holds it, at commit."""
    evict_beyond_limit(db_session=db_session, user_id=user_id, limit=0, reason=reason)
