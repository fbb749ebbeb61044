"""Schemas for the people I met in person and their exports."""

from marshmallow import ValidationError, fields, validate

from service.common.cursor import Cursor
from service.common.schemas import PageQuerySchema, PageSchema, StrictSchema
from service.contacts.schemas import PersonSchema
from service.identities.handles import NAMES
from service.models.social import NETWORKS

# Networks whose import takes a file IRL can write (mastodon: Import → Lists CSV; the
# others: one handle per line).
EXPORT_NETWORKS = ("mastodon", "bluesky", "github", "twitter")
SINCE = {
    "description": "RFC 3339 time with an offset: only people with a meeting recorded, or "
    "an identity verified, at or after it (pass the time of your last sync)"
}


def exportable(network: str) -> None:
    """Validator: a network IRL can write a list for, else a message saying which can."""
    if network in EXPORT_NETWORKS:
        return
    choices = (
        "mastodon (a CSV for Import → Lists), or bluesky, github or twitter (one handle per line)"
    )
    if network in NAMES:
        raise ValidationError(f"{NAMES[network]} has no list import to export to; use {choices}.")
    raise ValidationError(f"Unknown network; use {choices}.")


class MetQuerySchema(PageQuerySchema):
    """Paging, updates since a time, and optionally one network."""

    cursor = Cursor("time")

    since = fields.AwareDateTime(load_default=None, metadata=SINCE)
    network = fields.String(
        load_default=None,
        validate=validate.OneOf(NETWORKS),
        metadata={"description": "Only people with a verified identity on this network"},
    )


class MetExportQuerySchema(StrictSchema):
    """The network to export for, and updates since a time."""

    network = fields.String(
        required=True, validate=exportable, metadata={"enum": list(EXPORT_NETWORKS)}
    )
    since = fields.AwareDateTime(load_default=None, metadata=SINCE)


class MetPersonSchema(PersonSchema):
    """Someone I met in person: who, their verified networks (contacts only), when, how
    often."""

    contact = fields.Boolean(
        metadata={"description": "A mutual contact now: identities are shown to contacts only"}
    )
    first_met_at = fields.DateTime()
    last_met_at = fields.DateTime()
    meetings = fields.Integer()


class MetPageSchema(PageSchema):
    """People I met, the most recently met first."""

    items = fields.List(fields.Nested(MetPersonSchema))
