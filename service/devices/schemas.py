"""Schemas for push devices."""

from marshmallow import fields, validate

from service.common.cursor import Cursor
from service.common.schemas import PageQuerySchema, PageSchema, StrictSchema
from service.models.notification import PLATFORMS


class DeviceSchema(StrictSchema):
    """A device that receives my push notifications."""

    id = fields.Integer(dump_only=True)
    platform = fields.String(required=True, validate=validate.OneOf(PLATFORMS))
    token = fields.String(
        required=True,
        validate=validate.Regexp(r"^[\x21-\x7e]{1,512}$", error="1 to 512 printable characters."),
        metadata={"description": "the push token the platform gave the app"},
    )
    created_at = fields.DateTime(dump_only=True)


class DevicePageSchema(PageSchema):
    """A page of my devices, newest first."""

    items = fields.List(fields.Nested(DeviceSchema))


class DeviceQuerySchema(PageQuerySchema):
    """Paging for my devices."""

    cursor = Cursor("id")
