"""Schemas for linked online identities."""

from marshmallow import fields, validate

from service.common.schemas import PageSchema, StrictSchema
from service.models.social import NETWORKS


class IdentityPutSchema(StrictSchema):
    """The handle to link (``@name``, ``user@instance`` or a profile URL)."""

    handle = fields.String(required=True, validate=validate.Length(min=1, max=400))


class IdentitySchema(StrictSchema):
    """A linked identity."""

    network = fields.String(metadata={"enum": list(NETWORKS)})
    handle = fields.String()
    created_at = fields.DateTime()


class IdentityListSchema(PageSchema):
    """My linked identities (one per network)."""

    items = fields.List(fields.Nested(IdentitySchema))
