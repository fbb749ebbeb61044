"""Schemas for a venue's staff."""

from marshmallow import fields

from service.common.schemas import StrictSchema
from service.contacts.schemas import PersonSchema


class StaffListSchema(StrictSchema):
    """Everyone the owner lists as staff (a short list, not paged)."""

    items = fields.List(fields.Nested(PersonSchema))
    next_cursor = fields.String(allow_none=True, metadata={"description": "always null"})
