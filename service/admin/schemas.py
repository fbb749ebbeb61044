"""Schemas for the audit log."""

from marshmallow import fields

from service.common.cursor import Cursor
from service.common.schemas import PageQuerySchema, PageSchema, StrictSchema


class AuditEntrySchema(StrictSchema):
    """One admin action."""

    id = fields.Integer()
    admin = fields.String(allow_none=True, metadata={"description": "null: the command line"})
    action = fields.String()
    target_type = fields.String()
    target_id = fields.Integer(allow_none=True)
    details = fields.Dict()
    at = fields.DateTime()


class AuditPageSchema(PageSchema):
    """A page of the audit log, newest first."""

    items = fields.List(fields.Nested(AuditEntrySchema))


class AuditQuerySchema(PageQuerySchema):
    """Paging for the audit log."""

    cursor = Cursor("id")
