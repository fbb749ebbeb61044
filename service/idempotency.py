"""``Idempotency-Key`` for writes a phone may retry (PRODUCT.md, Conventions).

The key row is inserted in the same transaction as the write it guards. A concurrent
retry blocks on the primary key until the first transaction ends: if it committed, the
retry replays the stored response; if it rolled back, the retry does the work itself. A
retry that waits longer than the lock timeout gets 409. Keys live 24 hours.

The fingerprint covers the method, the path and query and the body, so the same key sent
to another endpoint, or with another body, is a 422 and never a replay. A form (an upload)
is fingerprinted by its media type, fields and files rather than its raw bytes: a phone
that retries re-encodes it with a new multipart boundary.
"""

import contextlib
import hashlib
import json
import re
from datetime import timedelta
from functools import wraps

from flask import Response, request
from flask_smorest import Blueprint
from psycopg import errors as pg_errors
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from service import clock
from service.auth.tokens import current_user_id
from service.database import db
from service.errors import Conflict, DomainError
from service.models import IdempotencyKey

KEY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
KEY_TTL = timedelta(hours=24)
KEY_PATTERN = re.compile(r"[\x21-\x7e][\x20-\x7e]{0,254}")
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
HEADER_DOC = {
    "in": "header",
    "name": KEY_HEADER,
    "required": False,
    # KEY_PATTERN: printable ASCII, not starting with a space
    "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH, "pattern": "^[!-~][ -~]*$"},
    "description": "retry safely: the same key and body replay the first answer "
    "(header `Idempotent-Replayed: true`); another body with the key is a 422",
}


def fingerprint() -> str:
    """Hash of the method, path (and query), and body of the current request: JSON
    canonicalised, a form by its media type, fields and the contents of its files."""
    target = request.path
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    digest = hashlib.sha256(f"{request.method} {target}\n".encode())
    digest.update(_form_digest() if request.mimetype in FORM_TYPES else _body())
    return digest.hexdigest()


def _body() -> bytes:
    body = request.get_data()
    with contextlib.suppress(ValueError, RecursionError):
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    return body


def _form_digest() -> bytes:
    """The fields and uploaded files of a form, independent of how it was encoded."""
    parts = [["field", name, value] for name, value in request.form.items(multi=True)]
    for name, upload in request.files.items(multi=True):
        content = upload.read()
        upload.seek(0)  # the view reads it again
        parts.append(["file", name, upload.filename or "", hashlib.sha256(content).hexdigest()])
    return json.dumps([request.mimetype, sorted(parts)]).encode()


def _claim(db_session: Session, user_id: int, key: str, print_: str) -> IdempotencyKey | None:
    """Insert the key; return the existing row if another request already holds it."""
    now = clock.now()
    db_session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.key == key,
            IdempotencyKey.created_at < now - KEY_TTL,
        )
    )
    try:
        inserted = db_session.execute(
            insert(IdempotencyKey)
            .values(user_id=user_id, key=key, fingerprint=print_, created_at=now)
            .on_conflict_do_nothing()
            .returning(IdempotencyKey.key)
        ).first()
    except OperationalError as exc:
        if isinstance(exc.orig, pg_errors.LockNotAvailable):
            raise Conflict(
                "A request with this Idempotency-Key is still being processed; retry shortly."
            ) from exc
        raise
    if inserted is not None:
        return None
    return db_session.scalars(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    ).one()


def idempotent(view):
    """Make a write view replayable by ``Idempotency-Key`` and commit its unit of work
    (a deadlock reruns it whole: ``service.retry``)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        return _unit_of_work(view, args, kwargs)

    # document the header and the 409 of a retry that arrives while the first still runs
    return Blueprint.doc(parameters=[HEADER_DOC], responses={"409": "DEFAULT_ERROR"})(wrapper)


def _unit_of_work(view, args, kwargs):
    """One attempt: claim the key (if any), run the view, store its answer, commit."""
    key = request.headers.get(KEY_HEADER)
    session = db.session
    if key is None:
        response = view(*args, **kwargs)
        session.commit()
        return response
    if not KEY_PATTERN.fullmatch(key):
        raise DomainError(f"{KEY_HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters.")
    print_ = fingerprint()
    existing = _claim(session, current_user_id(), key, print_)
    if existing is not None:
        if existing.fingerprint != print_:
            raise DomainError(
                f"This {KEY_HEADER} was used with a different request; "
                "use a new key for a new request."
            )
        if existing.status_code is None:  # never committed without its answer; be safe
            raise Conflict(
                "A request with this Idempotency-Key is still being processed; retry shortly."
            )
        replay = Response(existing.body, status=existing.status_code, mimetype="application/json")
        replay.headers["Idempotent-Replayed"] = "true"
        session.rollback()
        return replay
    response = view(*args, **kwargs)
    session.execute(
        IdempotencyKey.__table__.update()
        .where(IdempotencyKey.user_id == current_user_id(), IdempotencyKey.key == key)
        .values(status_code=response.status_code, body=response.get_data())
    )
    session.commit()
    return response
