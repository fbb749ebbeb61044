"""Profile use cases."""

import re
from datetime import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.errors import NotFound
from service.models import User

HANDLE_PATTERN = re.compile(r"[A-Za-z0-9_]{1,30}")


def update_settings(*, db_session: Session, user: User, changes: dict) -> User:
    """Apply validated profile changes."""
    if "quiet_hours" in changes:
        quiet = changes.pop("quiet_hours")
        user.quiet_hours_start, user.quiet_hours_end = (
            (time.fromisoformat(quiet["start"]), time.fromisoformat(quiet["end"]))
            if quiet is not None
            else (None, None)
        )
    for key, value in changes.items():
        setattr(user, key, value.strip() if isinstance(value, str) else value)
    db_session.flush()
    return user


def get_by_handle(*, db_session: Session, handle: str) -> User:
    """Find a user by handle, case-insensitively; 404 if none."""
    if not HANDLE_PATTERN.fullmatch(handle):
        raise NotFound("No such user.")
    user = db_session.scalars(select(User).where(func.lower(User.handle) == handle.lower())).first()
    if user is None:
        raise NotFound("No such user.")
    return user
