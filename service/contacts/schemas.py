"""Schemas for contacts and contact imports."""

from marshmallow import fields, post_dump, validate

from service.common.cursor import Cursor
from service.common.schemas import PageQuerySchema, PageSchema, StrictSchema
from service.contacts.importers import MAX_HANDLES
from service.models.social import NETWORKS

MATCHED_SHOWN = 100  # an import of 5,000 handles answers at most this many by name


class ContactImportSchema(StrictSchema):
    """Handles I follow on a network (JSON form of the import)."""

    network = fields.String(required=True, validate=validate.OneOf(NETWORKS))
    handles = fields.List(
        fields.String(validate=validate.Length(min=1, max=400)),
        required=True,
        validate=validate.Length(max=MAX_HANDLES),
    )


class ContactUploadFormSchema(StrictSchema):
    """The multipart form's text field (the file comes as ``file``)."""

    network = fields.String(required=True, validate=validate.OneOf(NETWORKS))


class FaceSchema(StrictSchema):
    """A contact's verified identity and what that network shows of them."""

    network = fields.String(metadata={"enum": list(NETWORKS)})
    handle = fields.String()
    display_name = fields.String(allow_none=True, metadata={"description": "on the network"})
    avatar_url = fields.String(
        allow_none=True, metadata={"description": "http(s) URL the network gave, as given"}
    )


class PersonSchema(StrictSchema):
    """Who someone is in the app (never where)."""

    handle = fields.String()
    display_name = fields.String()
    identities = fields.List(
        fields.Nested(FaceSchema),
        metadata={
            "description": "Where a contact is shown: their verified networks with the name "
            "and picture people know them by (empty for anyone who is not my contact)",
            "omitted": "where an answer names a person without showing their networks",
        },
    )


class MatchSchema(PersonSchema):
    """An imported handle that is an IRL user."""

    network_handle = fields.String()
    mutual = fields.Boolean()


class ImportResultSchema(StrictSchema):
    """Which handles are IRL users; the rest are remembered until their owners join."""

    network = fields.String(validate=validate.OneOf(NETWORKS))
    matched = fields.List(
        fields.Nested(MatchSchema),
        metadata={
            "description": f"The first {MATCHED_SHOWN} matches by IRL handle (all of them are "
            "followed); matched_count says how many there are, GET /me/contacts lists them"
        },
    )
    matched_count = fields.Integer(metadata={"description": "Every match, shown or not"})
    unmatched_count = fields.Integer()
    invalid_count = fields.Integer(metadata={"description": "Lines that are not handles"})

    @post_dump
    def _cap_matched(self, data, **_kwargs):
        if "matched" in data:
            data["matched"] = data["matched"][:MATCHED_SHOWN]
        return data


class FollowSchema(StrictSchema):
    """Follow an IRL user by their IRL handle."""

    handle = fields.String(required=True, validate=validate.Length(min=1, max=30))


class ContactSchema(PersonSchema):
    """Someone I follow, and what we share."""

    mutual = fields.Boolean()
    met_in_person = fields.Boolean()
    first_met_at = fields.DateTime(allow_none=True)
    meetings = fields.Integer()


class ContactPageSchema(PageSchema):
    """People I follow, by handle."""

    items = fields.List(fields.Nested(ContactSchema))


class ContactQuerySchema(PageQuerySchema):
    """Paging, and optionally only mutual contacts."""

    cursor = Cursor("key")

    mutual = fields.Boolean()
