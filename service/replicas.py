"""Read-your-writes with read replicas (``DATABASE_REPLICA_URLS``).

Lag-tolerant reads (nearby searches, the feed, my check-ins, footfall stats) go to a
replica through ``db.reader``. A person who has just written must still see it: after a
successful write request the primary's WAL position is remembered for the user (in
Redis when ``REDIS_URL`` is set, so every host knows; else in this process), and their
reads use a replica only once it has replayed past that position — otherwise the
primary answers.
"""

import time

from flask import Flask, current_app, g, request
from redis import Redis
from sqlalchemy import bindparam, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.types import UserDefinedType

KEEP_S = 60  # longer than any sane replication lag
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_local: dict[int, tuple[str, float]] = {}


class PgLsn(UserDefinedType):
    """PostgreSQL's ``pg_lsn`` (a WAL position)."""

    cache_ok = True

    def get_col_spec(self, **_kwargs) -> str:
        return "pg_lsn"


def _redis() -> Redis | None:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = current_app.extensions.get("irl_replica_redis")
    if client is None:
        client = current_app.extensions.setdefault("irl_replica_redis", Redis.from_url(url))
    return client


def last_write(user_id: int) -> str | None:
    """The WAL position of the user's last write, if it is recent."""
    client = _redis()
    if client is not None:
        value = client.get(f"irl:last-write:{user_id}")
        return value.decode() if value else None
    marker = _local.get(user_id)
    return marker[0] if marker and marker[1] > time.monotonic() else None


def _remember(user_id: int, lsn: str) -> None:
    client = _redis()
    if client is not None:
        client.set(f"irl:last-write:{user_id}", lsn, ex=KEEP_S)
    else:
        now = time.monotonic()
        if len(_local) > 100_000:  # forget the expired ones now and then
            for key in [k for k, (_lsn, until) in _local.items() if until < now]:
                del _local[key]
        _local[user_id] = (lsn, now + KEEP_S)


def caught_up(replica: Session, user_id: int | None) -> bool:
    """Has this replica replayed the user's last write?"""
    marker = last_write(user_id) if user_id is not None else None
    if marker is None:
        return True
    replayed = replica.scalar(
        select(
            func.coalesce(func.pg_last_wal_replay_lsn() >= cast(bindparam("marker"), PgLsn()), True)
        ),
        {"marker": marker},
    )
    return bool(replayed)


def init_app(app: Flask) -> None:
    """With replicas configured, remember each successful write's WAL position."""
    if not app.config["DATABASE_REPLICA_URLS"]:
        return

    @app.after_request
    def _after_write(response):
        user_id = g.get("user_id")
        if request.method not in SAFE_METHODS and response.status_code < 400 and user_id:
            engine = app.extensions["irl_db"].engine
            with engine.connect() as conn:
                _remember(user_id, conn.scalar(select(cast(func.pg_current_wal_lsn(), PgLsn()))))
        return response
