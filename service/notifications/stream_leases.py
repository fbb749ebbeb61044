"""Who holds which notification stream, across processes: at most 5 per user.

Each open stream is a row of ``notification_streams`` and a session-level advisory lock
on one connection per process (the lease connection). The lock is taken in the
transaction that inserts the row, so nobody sees the row without it, and PostgreSQL
drops the locks of a connection that dies: a row without its lock belongs to a crashed
process, is deleted when it is in the way and never counts. Opening a stream that makes
more than 5 live ones deletes the oldest and announces their ids on ``CLOSE_CHANNEL``;
whichever process holds them ends them (``stream.Hub``).

Locks are taken, and looked up in ``pg_locks``, by statements that read no table: on
Citus a statement that reads a distributed table runs on a worker, whose locks and
``pg_locks`` the other processes' statements would not see; these run on the
coordinator, like every lease connection.
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


def _lock(stream_id: int):
    """Take the lease of a stream (for this connection's lifetime)."""
    return select(func.pg_advisory_lock(STREAM_LOCKS, _key(literal(stream_id, BigInteger))))


def _unlock(stream_id: int):
    """Give the lease of a stream back."""
    return select(func.pg_advisory_unlock(STREAM_LOCKS, _key(literal(stream_id, BigInteger))))


def _leased(db_session: Session, stream_ids: list[int]) -> set[int]:
    """Those of ``stream_ids`` whose lease some connection to this database holds."""
    this_database = select(_pg_database.c.oid).where(
        _pg_database.c.datname == func.current_database()
    )
    held = set(
        db_session.scalars(
            select(cast(_pg_locks.c.objid, BigInteger)).where(
                _pg_locks.c.locktype == "advisory",
                _pg_locks.c.database == this_database.scalar_subquery(),
                _pg_locks.c.classid == STREAM_LOCKS,
                cast(_pg_locks.c.objid, BigInteger).in_(sorted({i % _INT4 for i in stream_ids})),
                _pg_locks.c.objsubid == 2,
                _pg_locks.c.granted,
            )
        )
    )
    return {stream_id for stream_id in stream_ids if stream_id % _INT4 in held}


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
    rows = db_session.scalars(
        select(NotificationStream.id)
        .where(NotificationStream.user_id == user_id)
        .order_by(NotificationStream.opened_at.desc(), NotificationStream.id.desc())
    ).all()
    if len(rows) <= limit:
        return Eviction(list(rows), [])
    # looked up after the rows: a stream's lease is taken before its row is committed,
    # and given back after its row is deleted
    leased = _leased(db_session, rows)
    live = [stream_id for stream_id in rows if stream_id in leased]
    dead = [stream_id for stream_id in rows if stream_id not in leased]
    kept, evicted = live[:limit], live[limit:]
    if dead or evicted:
        db_session.execute(
            delete(NotificationStream).where(
                NotificationStream.user_id == user_id,
                NotificationStream.id.in_(dead + evicted),
            )
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
        self._held: dict[int, int] = {}  # stream id: its user's id
        self._lock = threading.Lock()

    def open(self, user_id: int) -> int:
        """Register a stream of ``user_id`` held by this process; its id."""

        def register(conn: Connection) -> int:
            stream_id = conn.execute(
                insert(NotificationStream).values(user_id=user_id).returning(NotificationStream.id)
            ).scalar_one()
            conn.execute(_lock(stream_id))  # before the row is committed
            return stream_id

        with self._lock:
            stream_id = self._run(register)
            self._held[stream_id] = user_id
        return stream_id

    def close(self, stream_id: int) -> None:
        """Forget a stream that ended (its row may already be gone: evicted)."""
        with self._lock:
            user_id = self._held.pop(stream_id, None)  # None: its row is gone
            if self._conn is None:  # nothing held: the next connection will not lock it
                return
            try:
                with self._conn.begin():
                    if user_id is not None:
                        self._conn.execute(
                            delete(NotificationStream).where(
                                NotificationStream.user_id == user_id,
                                NotificationStream.id == stream_id,
                            )
                        )
                    self._conn.execute(_unlock(stream_id))
            except DBAPIError as exc:  # its lock died with the connection
                log.warning("stream lease connection lost: %s", exc)
                self._drop()

    def check(self) -> None:
        """Reconnect if the connection died, and report streams whose rows are gone
        (after the listener was away, a close announcement may have been missed)."""
        with self._lock:
            if not self._held:
                return
            kept = set(self._run(self._rows))
            gone = set(self._held) - kept
            for stream_id in gone:
                del self._held[stream_id]
        if gone:
            self._on_gone(gone)

    def _rows(self, conn: Connection) -> list[int]:
        """Those of the held streams whose rows are left."""
        return conn.scalars(
            select(NotificationStream.id).where(
                NotificationStream.user_id.in_(sorted(set(self._held.values()))),
                NotificationStream.id.in_(sorted(self._held)),
            )
        ).all()

    def _run(self, work):
        """``work(connection)`` in a transaction, reconnecting once if the connection
        was lost."""
        for attempt in (1, 2):
            if self._conn is None:
                self._connect()
            try:
                with self._conn.begin():
                    return work(self._conn)
            except DBAPIError as exc:
                if attempt == 2 or not exc.connection_invalidated:
                    raise
                log.warning("stream lease connection lost, reconnecting: %s", exc)
                self._drop()
        raise AssertionError("unreachable")

    def _connect(self) -> None:
        conn = self._engine.connect()
        self._conn = conn
        if not self._held:
            return
        # locks of an earlier connection: take them again, then keep the streams whose
        # rows are left (locked first: an eviction from now on counts them live)
        with conn.begin():
            for stream_id in sorted(self._held):
                conn.execute(_lock(stream_id))
            gone = set(self._held) - set(self._rows(conn))
            for stream_id in gone:
                conn.execute(_unlock(stream_id))
                del self._held[stream_id]
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
