"""Schemas for the notification inbox and stream."""

from typing import ClassVar

from marshmallow import ValidationError, fields, validate, validates_schema

from service.common.cursor import Cursor
from service.common.schemas import PageQuerySchema, PageSchema, StrictSchema, object_id
from service.notifications.kinds import KINDS

MAX_IDS = 1000


class NotificationSchema(StrictSchema):
    """One notification; ``data`` carries what the app needs to act on it."""

    id = fields.Integer()
    kind = fields.String(validate=validate.OneOf(KINDS))
    message = fields.String()
    data = fields.Dict()
    quiet = fields.Boolean(
        metadata={"description": "arrived in quiet hours: kept in the inbox, not pushed"}
    )
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class NotificationQuerySchema(PageQuerySchema):
    """Paging, optionally unread ones only."""

    cursor = Cursor("id")

    unread_only = fields.Boolean(load_default=False)


class NotificationPageSchema(PageSchema):
    """A page of my notifications, newest first, and how many are unread in all."""

    items = fields.List(fields.Nested(NotificationSchema))
    unread_count = fields.Integer()


class MarkReadSchema(StrictSchema):
    """Either ``ids`` or ``up_to`` (everything with an id up to and including it)."""

    # in OpenAPI: exactly one of the two
    json_schema: ClassVar[dict] = {"minProperties": 1, "maxProperties": 1}

    ids = fields.List(object_id(), validate=validate.Length(min=1, max=MAX_IDS))
    up_to = object_id()

    @validates_schema
    def _exactly_one(self, data, **_kwargs):
        if ("ids" in data) == ("up_to" in data):
            raise ValidationError("Send either ids or up_to.")


class MarkReadResultSchema(StrictSchema):
    """How many were newly marked read, and how many are still unread."""

    marked = fields.Integer()
    unread_count = fields.Integer()
