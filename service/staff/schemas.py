"""Schemas for a venue's staff and the invitations people answer."""

from marshmallow import fields

from service.common.cursor import Cursor
from service.common.schemas import PageQuerySchema, PageSchema, StrictSchema


class StaffMemberSchema(StrictSchema):
    """Someone the owner invited: ``invited`` until they answer; only ``accepted`` staff
    are left out of footfall and mayorship (from ``accepted_at`` on)."""

    handle = fields.String()
    display_name = fields.String()
    status = fields.String(metadata={"enum": ["invited", "accepted", "declined", "ended"]})
    accepted_at = fields.DateTime(allow_none=True)


class StaffListSchema(PageSchema):
    """Everyone the owner invited, by handle, a page at a time."""

    items = fields.List(fields.Nested(StaffMemberSchema))


class StaffQuerySchema(PageQuerySchema):
    """Paging for a venue's staff, by handle."""

    cursor = Cursor("name")


class InvitationQuerySchema(PageQuerySchema):
    """Paging for my invitations, newest first."""

    cursor = Cursor("time")


class VenueRefSchema(StrictSchema):
    """The venue an invitation is from."""

    id = fields.Integer()
    name = fields.String()


class InvitationSchema(StrictSchema):
    """An invitation to be listed as a venue's staff."""

    id = fields.Integer()
    venue = fields.Nested(VenueRefSchema)
    status = fields.String(metadata={"enum": ["invited", "accepted", "declined", "ended"]})
    invited_at = fields.DateTime()
    accepted_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)


class InvitationListSchema(PageSchema):
    """My staff invitations, newest first."""

    items = fields.List(fields.Nested(InvitationSchema))
