"""Domain errors and the one table that maps them to HTTP responses.

Every error body has flask-smorest's shape: ``{"code", "status", "message", "errors"?}``.
"""

import logging
import re

from flask import Flask, jsonify
from psycopg import errors as pg_errors
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.http import HTTP_STATUS_CODES

from geo.errors import GeoError

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A failure a person can act on; ``status`` picks the HTTP code."""

    status = 422

    def __init__(self, message: str, *, errors: dict | None = None, headers=None):
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.headers = headers or {}


class NotFound(DomainError):
    """Unknown, or not visible to the caller (never reveal which)."""

    status = 404


class Forbidden(DomainError):
    """Authenticated but not allowed."""

    status = 403


class Conflict(DomainError):
    """Conflicts with the current state (duplicate, in progress)."""

    status = 409


class Unauthorized(DomainError):
    """No or bad credentials."""

    status = 401


class RateLimited(DomainError):
    """Too many requests; ``retry_after`` seconds until the window frees up."""

    status = 429

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message, headers={"Retry-After": str(max(1, int(retry_after)))})


class Unavailable(DomainError):
    """A dependency (the database) is down; try again shortly."""

    status = 503

    def __init__(
        self, message: str = "The service is temporarily unavailable.", *, retry_after: int = 5
    ):
        super().__init__(message, headers={"Retry-After": str(retry_after)})


def error_response(status: int, message: str, errors: dict | None = None, headers=None):
    """Build a response in flask-smorest's error shape."""
    body = {"code": status, "status": HTTP_STATUS_CODES.get(status, "Error"), "message": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def conflict_from_integrity(exc: IntegrityError) -> Conflict:
    """Turn a unique/foreign-key violation into a 409 that names the constraint's meaning."""
    constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None) or ""
    message = CONSTRAINT_MESSAGES.get(constraint, "This conflicts with existing data.")
    return Conflict(message)


CONSTRAINT_MESSAGES = {
    "uq_users_handle": "That handle is already taken.",
    "uq_users_email": "An account with that email already exists.",
}


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        return error_response(exc.status, exc.message, exc.errors, exc.headers)

    @app.errorhandler(GeoError)
    def _geo(exc: GeoError):
        return error_response(422, str(exc))

    @app.errorhandler(IntegrityError)
    def _integrity(exc: IntegrityError):
        conflict = conflict_from_integrity(exc)
        return error_response(conflict.status, conflict.message)

    @app.errorhandler(DBAPIError)
    def _database(exc: DBAPIError):
        return _database_response(exc)

    @app.errorhandler(PoolTimeout)
    def _pool_exhausted(_exc: PoolTimeout):
        log.warning("no database connection free within DB_POOL_TIMEOUT_S")
        return error_response(
            503, "The service is busy; try again shortly.", headers={"Retry-After": "2"}
        )


RETRYABLE = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected, pg_errors.LockNotAvailable)
# A Citus worker lost in the middle of a transaction: the coordinator reports it as an
# internal error (XX000) carrying libpq's words for the lost connection, or that a shard's
# commit failed, where a node it cannot reach at all is a connection failure (08006). The
# transaction did not commit (or a retry with its Idempotency-Key replays it): an outage.
LOST_WORKER = re.compile(
    "|".join(
        (
            r"server closed the connection unexpectedly",
            r"SSL SYSCALL error",
            r"SSL error",
            r"could not (receive|send) data (from|to) server",
            r"invalid socket",
            r"connection not open",
            r"no connection to the server",
            r"terminating connection",
            r"could not commit transaction for shard \d+ on at least one active node",
        )
    )
)


def unavailable(exc: DBAPIError) -> bool:
    """Whether ``exc`` means the database (or a node of it) is unreachable right now."""
    if isinstance(exc, OperationalError):
        return True
    if not isinstance(exc.orig, pg_errors.InternalError_):
        return False
    return bool(LOST_WORKER.search(exc.orig.diag.message_primary or ""))


def _database_response(exc: DBAPIError):
    """Collisions → 409 (retry), timeouts and outages → 503, anything else → 500."""
    if isinstance(exc.orig, RETRYABLE):
        return error_response(
            409, "The request collided with another; retry it.", headers={"Retry-After": "1"}
        )
    if isinstance(exc.orig, pg_errors.QueryCanceled):
        return error_response(
            503, "The request took too long; try again.", headers={"Retry-After": "2"}
        )
    if unavailable(exc):
        log.warning("database unavailable: %s", exc.orig)
        return error_response(
            503, "The database is unavailable; try again shortly.", headers={"Retry-After": "5"}
        )
    log.exception("database error")
    return error_response(500, "Internal server error.")
