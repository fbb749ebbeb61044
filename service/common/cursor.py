"""Opaque pagination cursors: URL-safe base64 of a small JSON list.

Each list declares the kind of cursor it takes with the ``Cursor`` query field. The kind
is the field's OpenAPI ``format`` (``time-cursor``, ...), and the field hands the view
the values the cursor packs. Every well-formed cursor of a kind is a page: the first of
its kind to come back empty is the end of the list. Anything else is a 422.
"""

import base64
import binascii
import json
from collections.abc import Callable
from datetime import datetime

from marshmallow import ValidationError, fields

from service.common.ids import MAX_ID
from service.common.text import unstorable

MAX_OFFSET = 10_000  # paging deeper than this is a scan, not a search
MAX_LENGTH = 200
INVALID = "The cursor is not valid; start again without it."


def encode(*values) -> str:
    """Pack values into an opaque cursor."""
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unpack(cursor: str, *types: type) -> tuple:
    """The values of a cursor made by ``encode``, each of its type; ValueError if not."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("not a cursor") from exc
    if not isinstance(values, list) or len(values) != len(types):
        raise ValueError("not a cursor of this kind")
    return tuple(_coerce(value, kind) for value, kind in zip(values, types, strict=True))


def _coerce(value, kind: type):
    if kind is str and isinstance(value, str) and unstorable(value):
        raise ValueError("unstorable text")
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError("wrong type")
    return value


def _within(value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise ValueError("out of range")
    return value


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("a cursor's time carries its offset")
    return moment


def _offset(text: str) -> int:
    (start,) = _unpack(text, int)
    return _within(start, 0, MAX_OFFSET)


def _id(text: str) -> int:
    (last,) = _unpack(text, int)
    return _within(last, 1, MAX_ID)


def _name(text: str) -> str:
    (after,) = _unpack(text, str)
    return after


def _key(text: str) -> tuple[str, int]:
    key, last = _unpack(text, str, int)
    return key, _within(last, 1, MAX_ID)


def _time_key(text: str) -> tuple[datetime, int]:
    key, last = _key(text)
    return _time(key), last


def _triple(text: str) -> tuple[str, str, int]:
    group, key, last = _unpack(text, str, str, int)
    return group, key, _within(last, 1, MAX_ID)


# kind -> (what it packs, in words; its reader). The OpenAPI format is "<kind>-cursor".
KINDS: dict[str, tuple[str, Callable]] = {
    "offset": (f"[offset] with 0 <= offset <= {MAX_OFFSET}", _offset),
    "id": (f"[id] with 1 <= id <= {MAX_ID}", _id),
    "name": ("[name]", _name),
    "key": ("[sort key, id]", _key),
    "time": ("[RFC 3339 time with offset, id]", _time_key),
    "triple": ("[group, sort key, id]", _triple),
}


class Cursor(fields.String):
    """A page cursor of one kind; loads as the values it packs (None without one)."""

    def __init__(self, kind: str, **kwargs):
        packs, self.read = KINDS[kind]
        description = (
            "Opaque: the next_cursor of the page before. "
            f"(URL-safe base64 of the JSON list {packs}, unpadded.)"
        )
        metadata = {"format": f"{kind}-cursor", "maxLength": MAX_LENGTH, "description": description}
        super().__init__(load_default=None, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > MAX_LENGTH:
            raise ValidationError(INVALID)
        try:
            return self.read(text)
        except ValueError as exc:
            raise ValidationError(INVALID) from exc
