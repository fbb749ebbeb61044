"""Handles and emails: one account each, held by the lookup tables ``user_handles`` and
``user_emails`` (keyed by the lower-cased value, so the check is one primary key even
when accounts are spread over shards)."""

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.errors import Conflict
from service.models import User, UserEmail, UserHandle

HANDLE_TAKEN = "That handle is already taken."
EMAIL_TAKEN = "An account with that email already exists."


def next_user_id(db_session: Session) -> int:
    """An id for an account about to be created (from the users' own sequence), so its
    names can be claimed before its row is written."""
    return db_session.scalar(select(func.nextval(func.pg_get_serial_sequence("users", "id"))))


def claim(db_session: Session, *, user_id: int, handle: str, email: str) -> None:
    """Take ``handle`` and ``email`` for the account ``user_id``; 409 if either is taken.

    A concurrent claim of the same name waits for this transaction, then finds it taken.
    """
    if not _take(db_session, UserHandle, UserHandle.handle, handle.lower(), user_id):
        raise Conflict(HANDLE_TAKEN)
    if not _take(db_session, UserEmail, UserEmail.email, email.lower(), user_id):
        raise Conflict(EMAIL_TAKEN)


def _take(db_session: Session, model, key, value: str, user_id: int) -> bool:
    taken = db_session.scalar(
        insert(model)
        .values({key.key: value, "user_id": user_id})
        .on_conflict_do_nothing()
        .returning(model.user_id)
    )
    return taken is not None


def record_all(db_session: Session) -> None:
    """Enter every account's handle and email that is missing from the lookup tables;
    for bulk loaders that write ``users`` rows themselves (seeds)."""
    for model, key, column in (
        (UserHandle, "handle", User.handle),
        (UserEmail, "email", User.email),
    ):
        db_session.execute(
            insert(model)
            .from_select([key, "user_id"], select(func.lower(column), User.id))
            .on_conflict_do_nothing()
        )
