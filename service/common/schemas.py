"""Schema pieces shared by several resources."""

import marshmallow as ma
from marshmallow import fields, validate

from geo.coords import LAT_RANGE, LON_RANGE

MAX_PAGE = 100
DEFAULT_PAGE = 20


class StrictSchema(ma.Schema):
    """Request schema that rejects unknown fields."""

    class Meta:
        unknown = ma.RAISE


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
    """``limit`` (1..100, default 20) and an opaque ``cursor``."""

    limit = fields.Integer(load_default=DEFAULT_PAGE, validate=validate.Range(1, MAX_PAGE))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


class PositionQuerySchema(PageQuerySchema):
    """A position in the query string plus paging."""

    lat = latitude(required=True)
    lon = longitude(required=True)


class PageSchema(ma.Schema):
    """A page of results and the cursor of the next one (null at the end)."""

    next_cursor = fields.String(allow_none=True)
