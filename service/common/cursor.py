"""Opaque pagination cursors: URL-safe base64 of a small JSON list."""

import base64
import binascii
import json
from datetime import datetime

from service.common.schemas import unstorable
from service.errors import DomainError


def encode(*values) -> str:
    """Pack values into an opaque cursor."""
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid() -> DomainError:
    return DomainError(
        "The cursor is not valid; start again without it.",
        errors={"query": {"cursor": ["Invalid cursor."]}},
    )


def check_range(value: int, low: int, high: int) -> None:
    """422 when a decoded number lies outside what the cursor could have held."""
    if not low <= value <= high:
        raise _invalid()


def parse_time(text: str) -> datetime:
    """An ISO 8601 time from a cursor; 422 if it is not one."""
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise _invalid() from exc


def decode(cursor: str | None, *types: type) -> tuple | None:
    """Unpack a cursor made by ``encode``, checking each value's type; 422 if tampered."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError
        return tuple(_coerce(value, kind) for value, kind in zip(values, types, strict=True))
    except (ValueError, binascii.Error, UnicodeDecodeError, TypeError) as exc:
        raise DomainError(
            "The cursor is not valid; start again without it.",
            errors={"query": {"cursor": ["Invalid cursor."]}},
        ) from exc


def _coerce(value, kind: type):
    if kind is str and isinstance(value, str) and unstorable(value):
        raise ValueError
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError
    return value


MAX_ID = 2**63 - 1


def decode_keyset(text: str | None) -> tuple[str, int] | None:
    """A ``(sort key, id)`` cursor, the id within bigint; 422 otherwise."""
    values = decode(text, str, int)
    if values is not None:
        check_range(values[1], 1, MAX_ID)
    return values


def decode_id(text: str | None) -> int | None:
    """An id cursor (newest-first lists keyed on id alone); 422 otherwise."""
    values = decode(text, int)
    if values is None:
        return None
    check_range(values[0], 1, MAX_ID)
    return values[0]


def decode_triple(text: str | None) -> tuple[str, str, int] | None:
    """A ``(group, sort key, id)`` cursor, the id within bigint; 422 otherwise."""
    values = decode(text, str, str, int)
    if values is not None:
        check_range(values[2], 1, MAX_ID)
    return values


def decode_time_keyset(text: str | None) -> tuple[datetime, int] | None:
    """A ``(time, id)`` cursor for newest-first lists; 422 otherwise."""
    values = decode_keyset(text)
    return (parse_time(values[0]), values[1]) if values is not None else None
