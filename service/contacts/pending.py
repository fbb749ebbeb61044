"""Imported handles that match no verified identity yet: kept, bounded, and aged out."""

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.models import PendingFollow


def remember(
    db_session: Session, user_id: int, network: str, handles: list[str], *, cap: int, now: datetime
) -> None:
    """Keep ``handles`` as pending follows (a re-import refreshes their age), then drop
    all but the newest ``cap`` of this user's on this network."""
    if not handles:
        return
    statement = insert(PendingFollow).values(
        [
            {"follower_id": user_id, "network": network, "handle": h, "created_at": now}
            for h in handles
        ]
    )
    db_session.execute(
        statement.on_conflict_do_update(
            index_elements=["follower_id", "network", "handle"],
            set_={"created_at": statement.excluded.created_at},
        )
    )
    keep = (
        select(PendingFollow.handle)
        .where(PendingFollow.follower_id == user_id, PendingFollow.network == network)
        .order_by(PendingFollow.created_at.desc(), PendingFollow.handle)
        .limit(cap)
    )
    db_session.execute(
        delete(PendingFollow).where(
            PendingFollow.follower_id == user_id,
            PendingFollow.network == network,
            PendingFollow.handle.not_in(keep.scalar_subquery()),
        )
    )


def purge(db_session: Session, *, older_than: timedelta, now: datetime) -> int:
    """Drop pending follows not refreshed for ``older_than``; how many went."""
    return db_session.execute(
        delete(PendingFollow).where(PendingFollow.created_at < now - older_than)
    ).rowcount
