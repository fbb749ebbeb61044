"""Secret feed tokens: shown once, stored as SHA-256 only, one per user."""

import hashlib
import secrets

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.errors import NotFound
from service.models import CalendarToken, CalendarTokenHash

TOKEN_BYTES = 32  # 256 random bits: guessing one is hopeless, so a fast hash is enough
MAX_LENGTH = 100  # token_urlsafe(32) is 43 characters


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def issue(*, db_session: Session, user_id: int) -> str:
    """A new token for the user, replacing (so revoking) any earlier one."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    digest = _digest(token)
    revoke(db_session=db_session, user_id=user_id)
    statement = insert(CalendarToken).values(
        user_id=user_id, token_hash=digest, created_at=func.now()
    )
    db_session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id"],
            set_={
                "token_hash": statement.excluded.token_hash,
                "created_at": statement.excluded.created_at,
            },
        )
    )
    db_session.execute(insert(CalendarTokenHash).values(token_hash=digest, user_id=user_id))
    return token


def revoke(*, db_session: Session, user_id: int) -> None:
    """Forget the user's token: the feed URL answers 404 from now on."""
    hashes = list(
        db_session.scalars(
            delete(CalendarToken)
            .where(CalendarToken.user_id == user_id)
            .returning(CalendarToken.token_hash)
        )
    )
    if hashes:
        db_session.execute(
            delete(CalendarTokenHash).where(
                CalendarTokenHash.token_hash.in_(hashes), CalendarTokenHash.user_id == user_id
            )
        )


def owner(*, db_session: Session, token: str) -> int:
    """Whose feed ``token`` opens; 404 for an unknown, revoked or rotated-away token."""
    if not token or len(token) > MAX_LENGTH:
        raise NotFound("No such calendar.")
    digest = _digest(token)
    user_id = db_session.scalar(
        select(CalendarTokenHash.user_id).where(CalendarTokenHash.token_hash == digest)
    )
    if user_id is not None:  # the user's own row decides: a raced rotation can leave a hash
        user_id = db_session.scalar(
            select(CalendarToken.user_id).where(
                CalendarToken.user_id == user_id, CalendarToken.token_hash == digest
            )
        )
    if user_id is None:
        raise NotFound("No such calendar.")
    return user_id
