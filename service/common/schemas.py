"""Schema pieces shared by several resources."""

from functools import lru_cache
from zoneinfo import available_timezones

import marshmallow as ma
from marshmallow import ValidationError, fields, pre_load, validate

from geo.coords import LAT_RANGE, LON_RANGE
from service.common.cursor import Cursor
from service.common.ids import MAX_ID
from service.common.text import unstorable

MAX_PAGE = 100
DEFAULT_PAGE = 20


# Every time a request sends must carry its offset; say how to write one (marshmallow's
# own message, "Not a valid aware datetime.", does not).
fields.AwareDateTime.default_error_messages = {
    **fields.AwareDateTime.default_error_messages,
    "invalid_awareness": "Include a UTC offset, like 2026-12-06T18:00:00+01:00 (or Z for UTC).",
}


class StrictSchema(ma.Schema):
    """Request schema that rejects unknown fields and text the database cannot store."""

    class Meta:
        unknown = ma.RAISE

    @pre_load(pass_collection=True)
    def _reject_unstorable_text(self, data, **_kwargs):
        values = dict(data) if hasattr(data, "keys") and not isinstance(data, dict) else data
        if unstorable(values):
            raise ValidationError("Text may not contain NUL characters or invalid Unicode.")
        return data


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def known_zone(name: str) -> None:
    """Validator: an IANA time zone name."""
    if name not in _zones():
        raise ValidationError("Not an IANA time zone name (like Europe/Paris).")


def zone_name(*, description: str, allow_none: bool = False, **kwargs) -> fields.String:
    """An IANA time zone name, its list declared in OpenAPI (null too where allowed)."""
    names = [*sorted(_zones()), *([None] if allow_none else [])]
    return fields.String(
        allow_none=allow_none,
        validate=known_zone,
        metadata={"description": description, "enum": names},
        **kwargs,
    )


class JsonBool(fields.Boolean):
    """A JSON ``true``/``false`` in a body: not 0, 1 or "yes" (0 == False in Python)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def json_bool(**kwargs) -> fields.Boolean:
    """A field for a JSON boolean in a request body."""
    return JsonBool(**kwargs)


def object_id(**kwargs) -> fields.Integer:
    """A positive database id (bigint range)."""
    return fields.Integer(strict=True, validate=validate.Range(1, MAX_ID), **kwargs)


def latitude(**kwargs) -> fields.Float:
    """A finite latitude in degrees, -90..90."""
    return fields.Float(validate=validate.Range(*LAT_RANGE), allow_nan=False, **kwargs)


def longitude(**kwargs) -> fields.Float:
    """A finite longitude in degrees, -180..180 (no wrapping)."""
    return fields.Float(validate=validate.Range(*LON_RANGE), allow_nan=False, **kwargs)


class LocationSchema(StrictSchema):
    """``{"lat", "lon"}`` in WGS 84 degrees."""

    lat = latitude(required=True)
    lon = longitude(required=True)


class PageQuerySchema(StrictSchema):
    """``limit`` (1..100, default 20) and an opaque ``cursor`` (an offset, unless a
    subclass declares another kind)."""

    limit = fields.Integer(load_default=DEFAULT_PAGE, validate=validate.Range(1, MAX_PAGE))
    cursor = Cursor("offset")


class PositionQuerySchema(PageQuerySchema):
    """A position in the query string plus paging."""

    lat = latitude(required=True)
    lon = longitude(required=True)


class PageSchema(ma.Schema):
    """A page of results and the cursor of the next one (null at the end)."""

    next_cursor = fields.String(allow_none=True)
