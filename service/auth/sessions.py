"""Signed-in sessions: refresh tokens that rotate on every use and can be revoked.

Each refresh token is stored by its ``jti``. Refreshing uses it up and issues the next
one of the same family (the sign-in); presenting a used or revoked token again revokes
the whole family, so a stolen refresh token dies the moment either party uses it twice.

Access tokens are short-lived (``JWT_ACCESS_MINUTES``) and carry the user's
``token_version`` (claim ``ver``): changing the password or signing out everywhere bumps
it, and every token issued before is refused at once (``tokens.login_required``). Refresh
tokens carry it too, and their sign-in (claim ``fam``, the rate limiter's key).
"""

import uuid

from flask import current_app, g
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from jwt import PyJWTError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service import clock
from service.errors import Unauthorized
from service.models import RefreshToken, User
from service.notifications import stream_leases

VERSION_CLAIM = "ver"
FAMILY_CLAIM = "fam"


def issue(db_session: Session, user: User, family: str | None = None) -> dict:
    """A fresh access/refresh pair; the refresh token is recorded in ``family`` (a new
    sign-in when None)."""
    identity = str(user.id)
    family = family or str(uuid.uuid4())
    jti = str(uuid.uuid4())  # chosen here: reading it back from the token costs a decode
    version = {VERSION_CLAIM: user.token_version}
    refresh = create_refresh_token(
        identity=identity, additional_claims={**version, FAMILY_CLAIM: family, "jti": jti}
    )
    now = clock.now()
    db_session.add(
        RefreshToken(
            jti=jti,
            user_id=user.id,
            family=family,
            issued_at=now,
            expires_at=now + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"],
        )
    )
    return {
        "access_token": create_access_token(identity=identity, additional_claims=version),
        "refresh_token": refresh,
        "token_type": "Bearer",
    }


def token_version(claims: dict) -> int:
    """The ``token_version`` a token was issued under (0: issued before tokens had one)."""
    version = claims.get(VERSION_CLAIM, 0)
    return version if isinstance(version, int) else -1


def _claims(token: str) -> dict:
    """The verified claims of a refresh token (decoded once per request: the rate
    limiter's key asks first)."""
    cached = g.get("irl_refresh_claims")
    if cached is not None and cached[0] == token:
        claims = cached[1]
    else:
        try:
            claims = decode_token(token)
        except PyJWTError as exc:
            raise Unauthorized("Invalid or expired refresh token.") from exc
        g.irl_refresh_claims = (token, claims)
    if claims.get("type") != "refresh":
        raise Unauthorized("That is not a refresh token.")
    return claims


def rate_key(token) -> str | None:
    """The rate-limit bucket of a refresh token: its sign-in, or its user for a token
    issued before sign-ins were in the token; None when it does not verify."""
    if not isinstance(token, str) or not token:
        return None
    try:
        claims = _claims(token)
    except Unauthorized:
        return None
    family = claims.get(FAMILY_CLAIM)
    return f"sign-in:{family}" if isinstance(family, str) else f"user:{claims['sub']}"


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
    revoked before (or issued before a password change or a sign-out everywhere),
    revoke its family and return ``(None, {}, False)`` so the caller commits the
    revocation before answering 401."""
    claims = _claims(token)
    row = _stored(db_session, claims)
    if row.used_at is not None or row.revoked_at is not None:
        _revoke_family(db_session, row.family)
        return None, {}, False
    user = db_session.get(User, row.user_id)
    if user is None:
        raise Unauthorized("Unknown user.")
    # A refresh racing a password change can mint a token its revocation misses; the
    # version it carries is the old one, so it is refused here.
    if token_version(claims) != user.token_version:
        _revoke_family(db_session, row.family)
        return None, {}, False
    row.used_at = clock.now()
    return user, issue(db_session, user, row.family), True


def sign_out_everywhere(db_session: Session, user_id: int) -> None:
    """End every sign-in of a user: refresh tokens revoked, access tokens refused (the
    version they carry is no longer the user's), open notification streams closed."""
    db_session.execute(
        update(User)
        .where(User.id == user_id)
        .values(token_version=User.token_version + 1)
        .execution_options(synchronize_session="fetch")
    )
    db_session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    # open notification streams end too, in whichever process holds them
    stream_leases.close_all(db_session=db_session, user_id=user_id, reason="signed_out")


def revoke(db_session: Session, token: str, everywhere: bool) -> None:
    """Sign out: end this token's sign-in, or every sign-in of its user (and every
    access token issued to it)."""
    row = _stored(db_session, _claims(token))
    if everywhere:
        sign_out_everywhere(db_session, row.user_id)
    else:
        _revoke_family(db_session, row.family)
