"""Schemas for in-person meetings."""

from marshmallow import fields

from service.common.cursor import Cursor
from service.common.schemas import PageQuerySchema, PageSchema, StrictSchema
from service.contacts.schemas import PersonSchema
from service.venues.schemas import VenueSchema


class MeetingSchema(StrictSchema):
    """A meeting: who, where I was, when, and whether it was our first."""

    id = fields.Integer()
    user = fields.Nested(PersonSchema)
    venue = fields.Nested(VenueSchema, metadata={"description": "Where I checked in"})
    met_at = fields.DateTime()
    local_day = fields.Date()
    first_time = fields.Boolean()


class MeetingPageSchema(PageSchema):
    """My meetings, newest first."""

    items = fields.List(fields.Nested(MeetingSchema))


class MeetingQuerySchema(PageQuerySchema):
    """Paging for meetings."""

    cursor = Cursor("time")
