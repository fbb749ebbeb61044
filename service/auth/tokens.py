"""JWT access/refresh tokens (flask-jwt-extended, HS256 only) and the current user."""

from functools import wraps

from flask import Flask, g
from flask_jwt_extended import get_jwt, get_jwt_identity, verify_jwt_in_request

from service.auth import sessions
from service.database import db
from service.errors import Unauthorized, error_response
from service.extensions import jwt
from service.models import User


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


def token_verified() -> bool:
    """Was a valid token verified already in this request (by the rate limiter's key or
    the login check)? Verifying costs ~0.3 ms: PyJWT checks every character."""
    try:
        return bool(get_jwt())
    except RuntimeError:  # nothing verified yet
        return False


def login_required(view):
    """Require a valid access token of the user's current ``token_version`` (401
    otherwise). The user row this loads is the one ``current_user`` returns, so checking
    the version costs no query of its own."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not token_verified():
            verify_jwt_in_request()
        g.user_id = int(get_jwt_identity())
        user = current_user()
        if sessions.token_version(get_jwt()) != user.token_version:
            raise Unauthorized(
                "This token was signed out (a password change or a sign-out everywhere); "
                "sign in again.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return view(*args, **kwargs)

    return wrapper


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
