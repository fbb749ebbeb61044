"""Venue schemas: output, create, update and nearby query."""

from marshmallow import fields, validate

from service.common.schemas import (
    DEFAULT_PAGE,
    LocationSchema,
    PageSchema,
    PositionQuerySchema,
    StrictSchema,
)

MAX_NEARBY_RADIUS_M = 50_000


class VenueSchema(StrictSchema):
    """A venue as the app shows it."""

    id = fields.Integer(dump_only=True)
    name = fields.String()
    category = fields.String()
    address = fields.String(allow_none=True)
    location = fields.Nested(LocationSchema)
    radius_m = fields.Integer()
    timezone = fields.String(dump_only=True)
    owned = fields.Boolean(dump_only=True, metadata={"description": "Claimed by an owner"})


class NearbyVenueSchema(VenueSchema):
    """A venue with its distance from the asked position."""

    distance_m = fields.Float(metadata={"description": "Metres on the WGS 84 spheroid"})


class NearbyVenuesPageSchema(PageSchema):
    """Venues nearest first."""

    items = fields.List(fields.Nested(NearbyVenueSchema))


class VenueCreateSchema(StrictSchema):
    """A new venue."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    category = fields.String(required=True, validate=validate.Length(min=1, max=64))
    location = fields.Nested(LocationSchema, required=True)
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300))
    radius_m = fields.Integer(load_default=100, strict=True, validate=validate.Range(25, 500))


class VenuePatchSchema(StrictSchema):
    """Changes to a venue; each field optional."""

    name = fields.String(validate=validate.Length(min=1, max=200))
    category = fields.String(validate=validate.Length(min=1, max=64))
    location = fields.Nested(LocationSchema)
    address = fields.String(allow_none=True, validate=validate.Length(max=300))
    radius_m = fields.Integer(strict=True, validate=validate.Range(25, 500))


class NearbyVenuesQuerySchema(PositionQuerySchema):
    """Where to look, how far, and optional filters."""

    radius_m = fields.Float(
        load_default=1000, allow_nan=False, validate=validate.Range(1, MAX_NEARBY_RADIUS_M)
    )
    limit = fields.Integer(load_default=DEFAULT_PAGE, validate=validate.Range(1, 100))
    category = fields.String(validate=validate.Length(min=1, max=64))
    q = fields.String(validate=validate.Length(min=1, max=100))
    format = fields.String(validate=validate.OneOf(["json", "geojson"]))
