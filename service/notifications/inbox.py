"""My notifications: list them (newest first), mark them read. Only ever one's own."""

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.common import cursor
from service.identities import faces
from service.models import Notification


def view(row) -> dict:
    """A notification as the inbox, the stream and the push gateway show it."""
    return {
        "id": row.id,
        "kind": row.kind,
        "message": row.message,
        "data": row.data,
        "quiet": row.quiet,
        "created_at": row.created_at,
        "read_at": row.read_at,
    }


def names_someone(shown: dict) -> bool:
    """The notification names another person (``data.user``), whose face is added when
    it is read from the inbox."""
    data = shown.get("data")
    return isinstance(data, dict) and isinstance(data.get("user"), dict)


def with_faces(db_session: Session, rows) -> list[dict]:
    """``view`` of each row; the person a notification names gets their face as its
    recipient may see it (a contact's only, as of now), all in one statement."""
    shown, seen = [], []
    for row in rows:
        item = view(row)
        if row.actor_id is not None and names_someone(item):
            person = dict(item["data"]["user"])
            item["data"] = {**item["data"], "user": person}
            seen.append((row.user_id, row.actor_id, person))
        shown.append(item)
    faces.show_to_each(db_session, seen)
    return shown


def page(
    *, db_session: Session, user_id: int, limit: int, before: int | None, unread_only: bool
) -> dict:
    """A page of my notifications, newest first (keyset on id), its ``next_cursor`` and
    how many of mine are unread in all."""
    query = (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.id.desc())
        .limit(limit + 1)
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before is not None:
        query = query.where(Notification.id < before)
    rows = db_session.scalars(query).all()
    more = len(rows) > limit
    return {
        "items": with_faces(db_session, rows[:limit]),
        "next_cursor": cursor.encode(rows[limit - 1].id) if more else None,
        "unread_count": unread_count(db_session=db_session, user_id=user_id),
    }


def unread_count(*, db_session: Session, user_id: int) -> int:
    """How many of my notifications are unread."""
    return db_session.scalar(
        select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def mark_read(
    *,
    db_session: Session,
    user_id: int,
    now: datetime,
    ids: list[int] | None = None,
    up_to: int | None = None,
) -> int:
    """Mark the given ids, or everything up to and including ``up_to``, as read.

    Ids that are not mine are ignored, exactly like ids that do not exist, so the answer
    never tells whether someone else's notification exists."""
    condition = Notification.id.in_(ids) if ids is not None else Notification.id <= up_to
    result = db_session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None), condition)
        .values(read_at=now)
    )
    return result.rowcount


def newest_id(*, db_session: Session, user_id: int) -> int:
    """The id of my newest notification (0 if none)."""
    return db_session.scalar(
        select(func.coalesce(func.max(Notification.id), 0)).where(Notification.user_id == user_id)
    )


def after(*, db_session: Session, user_id: int, last_id: int, limit: int) -> list[dict]:
    """My notifications newer than ``last_id``, oldest first (a stream's catch-up)."""
    rows = db_session.scalars(
        select(Notification)
        .where(Notification.user_id == user_id, Notification.id > last_id)
        .order_by(Notification.id)
        .limit(limit)
    ).all()
    return with_faces(db_session, rows)
