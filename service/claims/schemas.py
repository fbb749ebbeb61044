"""Schemas for venue claims and the venues I own."""

from marshmallow import fields, validate

from service.common.cursor import Cursor
from service.common.schemas import PageQuerySchema, PageSchema, StrictSchema
from service.models.owner import CLAIM_STATES
from service.venues.schemas import VenueSchema


class ClaimCreateSchema(StrictSchema):
    """What a claimant may tell the admin (how to check they own the place)."""

    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class ClaimSchema(StrictSchema):
    """A claim and where it stands."""

    id = fields.Integer()
    venue_id = fields.Integer()
    venue_name = fields.String(metadata={"omitted": "from the answer to rejecting it"})
    claimant = fields.String(
        metadata={
            "description": "the claimant's handle",
            "omitted": "outside lists of claims (mine, an admin's)",
        }
    )
    status = fields.String(validate=validate.OneOf(CLAIM_STATES))
    note = fields.String(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "why it was rejected"})
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)


class ClaimPageSchema(PageSchema):
    """A page of claims, newest first."""

    items = fields.List(fields.Nested(ClaimSchema))


class ClaimQuerySchema(PageQuerySchema):
    """Paging for my claims."""

    cursor = Cursor("id")


class AdminClaimQuerySchema(PageQuerySchema):
    """Claims of one status (default: pending)."""

    cursor = Cursor("id")

    status = fields.String(load_default="pending", validate=validate.OneOf(CLAIM_STATES))


class RejectSchema(StrictSchema):
    """Why a claim is rejected (shown to the claimant)."""

    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class OwnedVenuePageSchema(PageSchema):
    """A page of the venues I own."""

    items = fields.List(fields.Nested(VenueSchema))
