"""Schemas for my profile and public profiles."""

from marshmallow import fields, validate

from service.common.schemas import StrictSchema
from service.models.user import LOCATION_SHARING


class MeSchema(StrictSchema):
    """My own profile and settings."""

    id = fields.Integer(dump_only=True)
    handle = fields.String(dump_only=True)
    email = fields.String(dump_only=True)
    display_name = fields.String()
    location_sharing = fields.String()
    nearby_radius_m = fields.Integer()
    notify_nearby = fields.Boolean()
    points = fields.Integer(dump_only=True)
    checkin_count = fields.Integer(dump_only=True)
    is_admin = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class MePatchSchema(StrictSchema):
    """Settings a person may change; each one is optional."""

    display_name = fields.String(validate=validate.Length(min=1, max=80))
    location_sharing = fields.String(validate=validate.OneOf(LOCATION_SHARING))
    nearby_radius_m = fields.Integer(validate=validate.Range(100, 5000))
    notify_nearby = fields.Boolean()


class PublicBadgeSchema(StrictSchema):
    """A badge someone holds."""

    key = fields.String()
    name = fields.String()
    level = fields.Integer()


class PublicUserSchema(StrictSchema):
    """What anyone may see of a user: never a location."""

    handle = fields.String()
    display_name = fields.String()
    points = fields.Integer()
    checkin_count = fields.Integer()
    badges = fields.List(fields.Nested(PublicBadgeSchema))
    created_at = fields.DateTime()
