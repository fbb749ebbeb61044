"""Schemas for online identities and their verification."""

from marshmallow import EXCLUDE, fields, validate

from service.common.schemas import PageSchema, StrictSchema
from service.models.social import NETWORKS


class IdentityPutSchema(StrictSchema):
    """The handle to claim (``@name``, ``user@instance`` or a profile URL)."""

    handle = fields.String(required=True, validate=validate.Length(min=1, max=400))


class IdentityVerifySchema(StrictSchema):
    """Empty for proof in the profile; ``state`` + ``completion`` to finish an OAuth
    sign-in (both come back from the callback)."""

    state = fields.String(validate=validate.Length(min=1, max=64))
    completion = fields.String(validate=validate.Length(min=1, max=64))


class IdentitySchema(StrictSchema):
    """One of my identities: unverified claims carry the code and where to put it."""

    network = fields.String(metadata={"enum": list(NETWORKS)})
    handle = fields.String()
    verified = fields.Boolean()
    verified_at = fields.DateTime(allow_none=True)
    proof_code = fields.String(allow_none=True)
    proof_instructions = fields.String(allow_none=True)
    display_name = fields.String(
        attribute="profile_name", allow_none=True, metadata={"description": "on the network"}
    )
    avatar_url = fields.String(allow_none=True)
    created_at = fields.DateTime()


class IdentityListSchema(PageSchema):
    """My identities (one per network)."""

    items = fields.List(fields.Nested(IdentitySchema))


class AuthorizeSchema(StrictSchema):
    """Where to send the person to sign in with the network."""

    network = fields.String(validate=validate.OneOf(NETWORKS))
    authorize_url = fields.String()
    state = fields.String()
    expires_at = fields.DateTime()


class CallbackQuerySchema(StrictSchema):
    """What the provider appends to the redirect (RFC 6749 §4.1.2); other parameters
    (``error_description``, ``scope``) are ignored. The limits keep the longest request
    line under gunicorn's 8,190 bytes even percent-encoded."""

    class Meta:
        unknown = EXCLUDE

    state = fields.String(validate=validate.Length(max=64))
    code = fields.String(validate=validate.Length(max=512))
    error = fields.String(validate=validate.Length(max=64))


class CallbackSchema(StrictSchema):
    """A finished sign-in: the app sends ``state`` + ``completion`` to ``verify``."""

    network = fields.String(validate=validate.OneOf(NETWORKS))
    handle = fields.String()
    state = fields.String()
    completion = fields.String()
    next = fields.String()
