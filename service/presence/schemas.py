"""Schemas for what contacts see of each other."""

from marshmallow import fields, validate

from service.common.cursor import Cursor
from service.common.schemas import (
    LocationSchema,
    PageQuerySchema,
    PageSchema,
    PositionQuerySchema,
    StrictSchema,
)
from service.contacts.schemas import PersonSchema
from service.models.user import LOCATION_SHARING
from service.venues.schemas import VenueSchema

SHARING = {
    "description": "exact: venue shown, distances to 100 m; approximate: no venue, "
    "a ~2 km grid cell centre, distances to 500 m"
}


class ContactCheckinSchema(StrictSchema):
    """A contact's check-in, shaped by their location sharing."""

    id = fields.Integer()
    user = fields.Nested(PersonSchema)
    sharing = fields.String(validate=validate.OneOf(LOCATION_SHARING), metadata=SHARING)
    venue = fields.Nested(VenueSchema, allow_none=True)
    location = fields.Nested(LocationSchema)
    shout = fields.String(allow_none=True)
    effective_at = fields.DateTime()


class FeedPageSchema(PageSchema):
    """Contacts' check-ins, newest first."""

    items = fields.List(fields.Nested(ContactCheckinSchema))


class NearbyContactSchema(StrictSchema):
    """A contact near me and how near, as precisely as they allow."""

    id = fields.String(metadata={"description": "The contact's handle"})
    user = fields.Nested(PersonSchema)
    sharing = fields.String(validate=validate.OneOf(LOCATION_SHARING), metadata=SHARING)
    venue = fields.Nested(VenueSchema, allow_none=True)
    location = fields.Nested(LocationSchema)
    distance_m = fields.Integer(metadata={"description": "Rounded per sharing level"})
    last_seen_at = fields.DateTime()


class NearbyContactsPageSchema(PageSchema):
    """Contacts nearest first."""

    items = fields.List(fields.Nested(NearbyContactSchema))


class NearbyContactsQuerySchema(PositionQuerySchema):
    """Where I am and how far to look (default 1000 m, at most 50 km)."""

    radius_m = fields.Float(load_default=1000, allow_nan=False, validate=validate.Range(1, 50_000))
    format = fields.String(validate=validate.OneOf(["json", "geojson"]))


class HereSchema(StrictSchema):
    """A contact at this venue in the last three hours."""

    user = fields.Nested(PersonSchema)
    checked_in_at = fields.DateTime()
    checkin_id = fields.Integer()


class HerePageSchema(PageSchema):
    """Contacts here, most recent first."""

    items = fields.List(fields.Nested(HereSchema))


class FeedQuerySchema(PageQuerySchema):
    """Paging for the feed."""

    cursor = Cursor("time")
