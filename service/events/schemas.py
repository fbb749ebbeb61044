"""Event, RSVP and nearby-event schemas."""

from datetime import timedelta

from marshmallow import ValidationError, fields, validate, validates_schema

from service.common.cursor import Cursor
from service.common.schemas import (
    LocationSchema,
    PageQuerySchema,
    PageSchema,
    PositionQuerySchema,
    StrictSchema,
    object_id,
)
from service.contacts.schemas import PersonSchema
from service.models.event import RSVP_STATUSES
from service.venues.schemas import VenueSchema

MAX_DURATION = timedelta(days=31)
MAX_WINDOW = timedelta(days=90)
TAG = fields.String(validate=validate.Length(min=1, max=40))


def _check_times(data: dict) -> None:
    start, end = data.get("starts_at"), data.get("ends_at")
    if start is not None and end is not None:
        if start >= end:
            raise ValidationError("ends_at must be after starts_at.", "ends_at")
        if end - start > MAX_DURATION:
            raise ValidationError("An event lasts at most 31 days.", "ends_at")


class EventCreateSchema(StrictSchema):
    """A new event at a venue."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    venue_id = object_id(required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    description = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=5000)
    )
    tags = fields.List(TAG, load_default=list, validate=validate.Length(max=20))

    @validates_schema
    def _times(self, data, **_kwargs):
        _check_times(data)


class EventPatchSchema(StrictSchema):
    """Changes to an event (the venue stays)."""

    title = fields.String(validate=validate.Length(min=1, max=200))
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    description = fields.String(allow_none=True, validate=validate.Length(max=5000))
    tags = fields.List(TAG, validate=validate.Length(max=20))

    @validates_schema
    def _times(self, data, **_kwargs):
        _check_times(data)


class EventSchema(StrictSchema):
    """An event."""

    id = fields.Integer()
    title = fields.String()
    description = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    venue = fields.Nested(VenueSchema)
    location = fields.Nested(LocationSchema)
    organiser = fields.Nested(PersonSchema)


class NearbyEventSchema(EventSchema):
    """An event near the asked position."""

    distance_m = fields.Float()
    contacts_going = fields.Integer()


class NearbyEventsPageSchema(PageSchema):
    """Events nearest first."""

    items = fields.List(fields.Nested(NearbyEventSchema))


class NearbyEventsQuerySchema(PositionQuerySchema):
    """Where, how far (default 5 km, at most 50 km) and when (default now → +7 days,
    at most 90 days)."""

    radius_m = fields.Float(load_default=5000, allow_nan=False, validate=validate.Range(1, 50_000))
    from_ = fields.AwareDateTime(data_key="from", load_default=None)
    to = fields.AwareDateTime(load_default=None)
    format = fields.String(validate=validate.OneOf(["json", "geojson"]))

    @validates_schema
    def _window(self, data, **_kwargs):
        start, end = data.get("from_"), data.get("to")
        if start is not None and end is not None:
            if start > end:
                raise ValidationError("from must not be after to.", "from")
            if end - start > MAX_WINDOW:
                raise ValidationError("The window is at most 90 days.", "to")


class RsvpSchema(StrictSchema):
    """My answer."""

    status = fields.String(required=True, validate=validate.OneOf(RSVP_STATUSES))


class CountsSchema(StrictSchema):
    """How many answered what."""

    going = fields.Integer()
    maybe = fields.Integer()
    not_going = fields.Integer()


class AttendeeSchema(StrictSchema):
    """A contact's answer."""

    user = fields.Nested(PersonSchema)
    status = fields.String(validate=validate.OneOf(RSVP_STATUSES))


class AttendeeQuerySchema(PageQuerySchema):
    """Paging for the contacts coming, by status then name."""

    cursor = Cursor("triple")


class AttendeesSchema(PageSchema):
    """My contacts by name, a page at a time (by status, then handle); everyone else only
    as counts (``others`` and ``total`` are the whole event's, on every page)."""

    contacts = fields.List(fields.Nested(AttendeeSchema))
    others = fields.Nested(CountsSchema)
    total = fields.Nested(CountsSchema)


class ConversionCountsSchema(StrictSchema):
    """How many answered what (null: fewer than 5 people, hidden)."""

    going = fields.Integer(allow_none=True)
    maybe = fields.Integer(allow_none=True)
    not_going = fields.Integer(allow_none=True)


class ConversionSchema(StrictSchema):
    """Online to offline: who said they would come, who came, who met for the first time.
    No figure, nor a difference of two, describes fewer than 5 people: such figures are
    null and named in ``suppressed_figures``."""

    rsvps = fields.Nested(ConversionCountsSchema)
    checked_in = fields.Integer(
        allow_none=True, metadata={"description": "People who checked in to it"}
    )
    going_and_came = fields.Integer(allow_none=True)
    going_but_absent = fields.Integer(allow_none=True)
    came_without_rsvp = fields.Integer(allow_none=True)
    meetings = fields.Integer(allow_none=True)
    new_pairs = fields.Integer(
        allow_none=True, metadata={"description": "Pairs who met for the first time"}
    )
    suppressed = fields.Boolean(metadata={"description": "some figure is hidden"})
    suppressed_figures = fields.List(
        fields.String(), metadata={"description": "the hidden ones, e.g. rsvps.maybe"}
    )
    suppression_threshold = fields.Integer()
