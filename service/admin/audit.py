"""The audit log: every admin action (API or command line) is one row."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import clock
from service.errors import Forbidden
from service.models import AdminAction, User


def record(
    db_session: Session,
    *,
    admin_id: int | None,
    action: str,
    target_type: str,
    target_id: int | None,
    details: dict | None = None,
) -> None:
    """Log an admin action in the caller's transaction (``admin_id`` None: the CLI)."""
    db_session.add(
        AdminAction(
            admin_id=admin_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            details=details or {},
            at=clock.now(),
        )
    )


def require_admin(user: User) -> None:
    """403 unless the user is an admin."""
    if not user.is_admin:
        raise Forbidden("Only admins can do this.")


def view(row: AdminAction, handle: str | None) -> dict:
    """An audit entry as the API shows it."""
    return {
        "id": row.id,
        "admin": handle,
        "action": row.action,
        "target_type": row.target_type,
        "target_id": row.target_id,
        "details": row.details,
        "at": row.at,
    }


def list_entries(
    *, db_session: Session, limit: int, before: int | None
) -> tuple[list[dict], int | None]:
    """The audit log, newest first (keyset on id)."""
    query = (
        select(AdminAction, User.handle)
        .outerjoin(User, User.id == AdminAction.admin_id)
        .order_by(AdminAction.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(AdminAction.id < before)
    rows = db_session.execute(query).all()
    more = len(rows) > limit
    items = [view(row.AdminAction, row.handle) for row in rows[:limit]]
    return items, (rows[limit - 1].AdminAction.id if more else None)
