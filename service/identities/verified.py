"""Verified handles: one owner each, held by ``verified_handles`` (keyed by the handle,
so the check is one primary key even when identities are spread over shards by user),
and the per-handle locks that order an import of a handle after, or before, a
verification or an unlink of it.

The locks are advisory locks taken by statements that read no table, so on Citus they
are the coordinator's, wherever the rows live. A handle's lock is its bucket's: an import
of 5,000 handles holds at most ``BUCKETS`` locks.
"""

import hashlib

from sqlalchemy import Integer, bindparam, delete, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session

from service.models import Identity, VerifiedHandle

# Two-int4 advisory keys (HANDLE_LOCKS, bucket) live apart from the single-bigint ones.
HANDLE_LOCKS = 0x1577
BUCKETS = 256


def bucket(network: str, handle: str) -> int:
    """The lock bucket of a handle on a network."""
    digest = hashlib.blake2b(f"{network}:{handle}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def lock(db_session: Session, network: str, *handles: str) -> None:
    """Lock handles for a change of owner (verify, unlink, replace): imports of them wait."""
    _lock(db_session, func.pg_advisory_xact_lock, network, handles)


def lock_for_import(db_session: Session, network: str, handles) -> None:
    """Lock handles for an import (shared: imports do not wait for each other). Take it
    before any row lock, as a verification does."""
    _lock(db_session, func.pg_advisory_xact_lock_shared, network, handles)


def _lock(db_session: Session, lock_function, network: str, handles) -> None:
    keys = sorted({bucket(network, handle) for handle in handles})
    if not keys:
        return
    key = func.unnest(bindparam("keys", type_=ARRAY(Integer))).column_valued("key")
    ordered = select(key).order_by(key).subquery()
    db_session.execute(
        select(func.count(lock_function(literal(HANDLE_LOCKS, Integer), ordered.c.key))),
        {"keys": keys},
    )


def owner(db_session: Session, network: str, handle: str) -> int | None:
    """Who has verified the handle, if anyone."""
    return db_session.scalar(
        select(VerifiedHandle.user_id).where(
            VerifiedHandle.handle == handle, VerifiedHandle.network == network
        )
    )


def owners(db_session: Session, network: str, handles) -> dict[str, int]:
    """The verified owner of each of ``handles`` that has one."""
    handles = sorted(set(handles))
    if not handles:
        return {}
    rows = db_session.execute(
        select(VerifiedHandle.handle, VerifiedHandle.user_id).where(
            VerifiedHandle.handle.in_(handles), VerifiedHandle.network == network
        )
    )
    return dict(rows.all())


def take(db_session: Session, user_id: int, network: str, handle: str) -> bool:
    """Make the handle this user's verified one; False if another user has verified it.
    A concurrent verification of it waits for this transaction, then finds it taken."""
    for _ in range(2):
        added = db_session.scalar(
            insert(VerifiedHandle)
            .values(handle=handle, network=network, user_id=user_id)
            .on_conflict_do_nothing()
            .returning(VerifiedHandle.user_id)
        )
        if added is not None:
            return True
        holder = owner(db_session, network, handle)
        if holder is not None:
            return holder == user_id
        # its owner let it go meanwhile: try again
    return False


def release(db_session: Session, user_id: int, network: str, handle: str) -> None:
    """Let the handle go, if this user had verified it."""
    db_session.execute(
        delete(VerifiedHandle).where(
            VerifiedHandle.handle == handle,
            VerifiedHandle.network == network,
            VerifiedHandle.user_id == user_id,
        )
    )


def record_all(db_session: Session) -> None:
    """Enter every verified identity missing from ``verified_handles``; for loaders that
    write ``identities`` rows themselves (seeds)."""
    db_session.execute(
        insert(VerifiedHandle)
        .from_select(
            ["handle", "network", "user_id"],
            select(Identity.handle, Identity.network, Identity.user_id).where(
                Identity.verified_at.is_not(None)
            ),
        )
        .on_conflict_do_nothing()
    )
