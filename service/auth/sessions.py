"""Signed-in sessions: refresh tokens that rotate on every use and can be revoked.

Each refresh token is stored by its ``jti``. Refreshing uses it up and issues the next
one of the same family (the sign-in); presenting a used or revoked token again revokes
the whole family, so a stolen refresh token dies the moment either party uses it twice.
Access tokens stay stateless and short-lived (``JWT_ACCESS_MINUTES``).
"""

import uuid

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token, get_jti
from jwt import PyJWTError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service import clock
from service.errors import Unauthorized
from service.models import RefreshToken, User


def issue(db_session: Session, user: User, family: str | None = None) -> dict:
    """A fresh access/refresh pair; the refresh token is recorded in ``family`` (a new
    sign-in when None)."""
    identity = str(user.id)
    refresh = create_refresh_token(identity=identity)
    now = clock.now()
    db_session.add(
        RefreshToken(
            jti=get_jti(refresh),
            user_id=user.id,
            family=family or str(uuid.uuid4()),
            issued_at=now,
            expires_at=now + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"],
        )
    )
    return {
        "access_token": create_access_token(identity=identity),
        "refresh_token": refresh,
        "token_type": "Bearer",
    }


def _claims(token: str) -> dict:
    try:
        claims = decode_token(token)
    except PyJWTError as exc:
        raise Unauthorized("Invalid or expired refresh token.") from exc
    if claims.get("type") != "refresh":
        raise Unauthorized("That is not a refresh token.")
    return claims


def _stored(db_session: Session, claims: dict) -> RefreshToken:
    row = db_session.scalars(
        select(RefreshToken)
        .where(RefreshToken.user_id == int(claims["sub"]), RefreshToken.jti == claims["jti"])
        .with_for_update()
    ).first()
    if row is None:
        raise Unauthorized("Unknown refresh token; sign in again.")
    return row


def _revoke_family(db_session: Session, family: str) -> None:
    db_session.execute(
        update(RefreshToken)
        .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


def rotate(db_session: Session, token: str) -> tuple[User, dict, bool]:
    """Use a refresh token up: ``(user, new tokens, True)``; or, for a token used or
    revoked before, revoke its family and return ``(None, {}, False)`` so the caller
    commits the revocation before answering 401."""
    row = _stored(db_session, _claims(token))
    if row.used_at is not None or row.revoked_at is not None:
        _revoke_family(db_session, row.family)
        return None, {}, False
    user = db_session.get(User, row.user_id)
    if user is None:
        raise Unauthorized("Unknown user.")
    row.used_at = clock.now()
    return user, issue(db_session, user, row.family), True


def revoke(db_session: Session, token: str, everywhere: bool) -> None:
    """Sign out: end this token's sign-in, or every sign-in of its user."""
    row = _stored(db_session, _claims(token))
    if everywhere:
        db_session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == row.user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=clock.now())
        )
    else:
        _revoke_family(db_session, row.family)
