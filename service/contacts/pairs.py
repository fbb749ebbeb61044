"""Follow edges, the per-direction relationship flags, and per-pair locks.

Each direction's flag is written only by that direction's follower, so concurrent follows
never read each other's uncommitted state. Rows of a pair are written in (user, other)
order to keep lock order stable.
"""

import hashlib
from functools import lru_cache

from sqlalchemy import BigInteger, bindparam, case, delete, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session

from service.models import Follow, Relationship


def pair_key(a: int, b: int) -> int:
    """A signed 64-bit advisory-lock key for the unordered pair {a, b} (a venue's
    mayorship decisions use ``(-1, venue)``)."""
    low, high = min(a, b), max(a, b)
    digest = hashlib.blake2b(f"pair:{low}:{high}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@lru_cache(maxsize=1)
def _lock_pairs_statement():
    """Lock the given pair keys in ascending order; built once. No table: on Citus it
    runs on the coordinator, where every check-in's locks meet (locked in a statement
    reading ``relationships``, they would be taken on the worker of the user's shard)."""
    key = func.unnest(bindparam("keys", type_=ARRAY(BigInteger))).column_valued("key")
    return select(func.pg_advisory_xact_lock(key)).order_by(key)


@lru_cache(maxsize=1)
def _mutual_contacts_statement():
    return select(Relationship.other_id).where(
        Relationship.user_id == bindparam("user_id", type_=BigInteger), Relationship.mutual
    )


def lock_contact_pairs(db_session: Session, user_id: int) -> list[int]:
    """Take the transaction-scoped lock of every pair (user, mutual contact), in key
    order; return the contacts' ids.

    Two check-ins of a pair (meeting detection) then run one after the other, so the
    second always sees the first; any two check-ins lock their common pairs in the same
    order, so they never deadlock.
    """
    contacts = mutual_contact_ids(db_session, user_id)
    if contacts:
        keys = sorted(pair_key(user_id, other) for other in contacts)
        db_session.connection().execute(_lock_pairs_statement(), {"keys": keys}).all()
    return contacts


def mutual_contact_ids(db_session: Session, user_id: int) -> list[int]:
    """Ids of my mutual contacts, ascending (one index range on my shard)."""
    return sorted(db_session.scalars(_mutual_contacts_statement(), {"user_id": user_id}))


def _set_flags(
    db_session: Session, follower_id: int, followee_ids: list[int], following: bool
) -> None:
    """Set ``i_follow`` on (follower, followee) and ``they_follow`` on the reverse rows,
    in one upsert whose rows are sorted, so concurrent follows lock in the same order."""
    rows = [
        {"user_id": follower_id, "other_id": f, "i_follow": following, "they_follow": False}
        for f in followee_ids
    ]
    rows += [
        {"user_id": f, "other_id": follower_id, "i_follow": False, "they_follow": following}
        for f in followee_ids
    ]
    rows.sort(key=lambda row: (row["user_id"], row["other_id"]))
    statement = insert(Relationship).values(rows)
    mine = statement.excluded.user_id == follower_id
    db_session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "other_id"],
            set_={
                "i_follow": case((mine, statement.excluded.i_follow), else_=Relationship.i_follow),
                "they_follow": case(
                    (mine, Relationship.they_follow), else_=statement.excluded.they_follow
                ),
            },
        )
    )


def follow(db_session: Session, follower_id: int, followee_ids: list[int], via: str) -> None:
    """Record that ``follower`` follows each of ``followee_ids`` through ``via``."""
    followee_ids = sorted({f for f in followee_ids if f != follower_id})
    if not followee_ids:
        return
    db_session.execute(
        insert(Follow)
        .values([{"follower_id": follower_id, "followee_id": f, "via": via} for f in followee_ids])
        .on_conflict_do_nothing()
    )
    _set_flags(db_session, follower_id, followee_ids, True)


def unfollow(db_session: Session, follower_id: int, followee_id: int) -> bool:
    """Remove every follow edge from follower to followee; False if there was none."""
    removed = db_session.execute(
        delete(Follow).where(Follow.follower_id == follower_id, Follow.followee_id == followee_id)
    ).rowcount
    if removed:
        _set_flags(db_session, follower_id, [followee_id], False)
    return bool(removed)


def withdraw_via(db_session: Session, followee_id: int, via: str) -> list[int]:
    """Withdraw the follows adopted through ``followee``'s identity on network ``via``.

    Follows of the same pair made in the app or through another network stay; returns
    the followers who no longer follow ``followee`` at all.
    """
    followers = sorted(
        set(
            db_session.scalars(
                delete(Follow)
                .where(Follow.followee_id == followee_id, Follow.via == via)
                .returning(Follow.follower_id)
            )
        )
    )
    if not followers:
        return []
    # a follow of the same pair racing this one writes these rows too: wait for it, so
    # the check below sees its edge (READ COMMITTED: a new statement, a new snapshot).
    # An UPDATE that changes nothing takes the rows' locks: the rows are the followers'
    # (on Citus, on their shards), and a SELECT ... FOR UPDATE may not span shards.
    rows = Relationship.__table__
    db_session.execute(
        update(rows)
        .where(rows.c.user_id.in_(followers), rows.c.other_id == followee_id)
        .values(i_follow=rows.c.i_follow)
    )
    still = set(
        db_session.scalars(
            select(Follow.follower_id).where(
                Follow.followee_id == followee_id, Follow.follower_id.in_(followers)
            )
        )
    )
    gone = [f for f in followers if f not in still]
    for follower in gone:
        _set_flags(db_session, follower, [followee_id], False)
    return gone
