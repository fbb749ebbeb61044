"""JWT access/refresh tokens (flask-jwt-extended, HS256 only) and the current user."""

from functools import wraps

import jwt as pyjwt
from flask import Flask, current_app, g, request
from flask_jwt_extended import get_jwt, verify_jwt_in_request
from jwt import PyJWTError
from sqlalchemy import bindparam, select

from service.auth import sessions
from service.database import db
from service.errors import Unauthorized, error_response
from service.extensions import jwt
from service.models import User

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
VERSION_OF_USER = select(User.token_version).where(User.id == bindparam("user_id"))


def init_app(app: Flask) -> None:
    """Bind JWT and answer every token failure with a 401 in the API's error shape."""
    jwt.init_app(app)

    def _unauthorized(message: str):
        response = error_response(401, message)
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    jwt.unauthorized_loader(lambda reason: _unauthorized("Missing bearer token."))
    jwt.invalid_token_loader(lambda reason: _unauthorized("Invalid token."))
    jwt.expired_token_loader(lambda header, payload: _unauthorized("Token has expired."))
    jwt.needs_fresh_token_loader(lambda header, payload: _unauthorized("Fresh token required."))
    jwt.revoked_token_loader(lambda header, payload: _unauthorized("Token has been revoked."))
    jwt.user_lookup_error_loader(lambda header, payload: _unauthorized("Unknown user."))


def access_claims() -> dict | None:
    """The verified claims of the request's access token, None without a valid one;
    verified once per request, whoever asks first (the rate limiter's key, the login
    check)."""
    if "irl_access_claims" not in g:
        g.irl_access_claims = _verify(request.headers.get("Authorization", ""))
    return g.irl_access_claims


def _verify(header: str) -> dict | None:
    """The claims of a valid access token in ``Authorization: Bearer <token>``, else None.

    One PyJWT decode making flask-jwt-extended's checks (signature, expiry, not-before,
    audience and issuer when configured, a subject, not a refresh token) instead of its
    two decodes and two header parses (PyJWT checks every character each time): ~0.2 ms a
    request. It holds while ``init_app`` registers no blocklist, user-lookup or extra
    verification loader. What this refuses, ``login_required`` hands to flask-jwt-extended,
    which says why (or accepts a header written differently)."""
    scheme, _, token = header.partition(" ")
    if scheme != "Bearer" or not token:
        return None
    cfg = current_app.config
    audience = cfg["JWT_DECODE_AUDIENCE"]
    try:
        claims = pyjwt.decode(
            token,
            cfg["JWT_SECRET_KEY"],
            algorithms=cfg["JWT_DECODE_ALGORITHMS"] or [cfg["JWT_ALGORITHM"]],
            audience=audience,
            issuer=cfg["JWT_DECODE_ISSUER"],
            leeway=cfg["JWT_DECODE_LEEWAY"],
            options={"verify_aud": audience is not None, "verify_sub": cfg["JWT_VERIFY_SUB"]},
        )
    except PyJWTError:
        return None
    if cfg["JWT_IDENTITY_CLAIM"] not in claims or claims.setdefault("type", "access") != "access":
        return None
    claims.setdefault("fresh", False)
    claims.setdefault("jti", None)
    g._jwt_extended_jwt = claims  # what flask-jwt-extended's get_jwt() returns
    return claims


def access_identity() -> str | None:
    """The user id of a valid access token in the request, else None."""
    claims = access_claims()
    return claims["sub"] if claims else None


def login_required(view):
    """Require a valid access token of the user's current ``token_version`` (401
    otherwise)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        claims = access_claims()
        if claims is None:
            verify_jwt_in_request()  # raises the 401 that says what is wrong
            claims = g.irl_access_claims = get_jwt()
        g.user_id = int(claims["sub"])
        if sessions.token_version(claims) != _current_version():
            raise Unauthorized(
                "This token was signed out (a password change or a sign-out everywhere); "
                "sign in again.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return view(*args, **kwargs)

    return wrapper


def _current_version() -> int:
    """The user's ``token_version``, read on the primary (a sign-out is seen at once).

    A write loads the user (the view almost always needs it, in the same transaction:
    the version costs no query of its own); a read selects the one column, without a
    transaction when it can (``db.reader`` is the primary when there are no replicas)."""
    if request.method not in SAFE_METHODS:
        return current_user().token_version
    if "user" in g:
        return g.user.token_version
    session = db.session if db.state().replica_factories else db.reader
    # Core, on a statement built once: no ORM execution, no expression building per request
    version = session.connection().scalar(VERSION_OF_USER, {"user_id": g.user_id})
    if version is None:
        raise Unauthorized("Unknown user.", headers={"WWW-Authenticate": "Bearer"})
    return version


def current_user_id() -> int:
    """The id in the verified access token."""
    return g.user_id


def current_user() -> User:
    """The token's user, loaded once per request; 401 if the account is gone."""
    if "user" not in g:
        user = db.session.get(User, g.user_id)
        if user is None:
            raise Unauthorized("Unknown user.", headers={"WWW-Authenticate": "Bearer"})
        g.user = user
    return g.user
