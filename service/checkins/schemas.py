"""Check-in schemas: create, output with rewards, listing."""

from marshmallow import ValidationError, fields, validate, validates

from service.common.cursor import Cursor
from service.common.schemas import (
    LocationSchema,
    PageQuerySchema,
    PageSchema,
    StrictSchema,
    json_bool,
    object_id,
)
from service.contacts.schemas import PersonSchema
from service.models.user import LOCATION_SHARING
from service.venues.schemas import VenueSchema


class CheckinCreateSchema(StrictSchema):
    """A check-in as the phone sends it."""

    venue_id = object_id(required=True)
    location = fields.Nested(LocationSchema, required=True)
    accuracy_m = fields.Float(
        load_default=None, allow_none=True, allow_nan=False, validate=validate.Range(0, 100_000)
    )
    event_id = object_id(load_default=None, allow_none=True)
    shout = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=140))
    client_time = fields.AwareDateTime(
        load_default=None, allow_none=True, metadata={"description": "RFC 3339 with an offset"}
    )
    private = json_bool(load_default=False)

    @validates("client_time")
    def _aware(self, value, **_kwargs):
        if value is not None and value.utcoffset() is None:
            raise ValidationError("client_time needs a UTC offset.")


class ReasonSchema(StrictSchema):
    """One broken rule and its numbers."""

    code = fields.String(
        metadata={"description": "imprecise | too_far | too_fast | too_soon | too_many_places"}
    )
    message = fields.String()
    details = fields.Dict()


# which check-ins carry which fields (the "omitted" note of its OpenAPI schema)
OWNER_ONLY = "from a contact's check-in (only its owner sees it)"
CONTACT_ONLY = "from my own check-ins (a contact's check-in names its person and sharing)"


class CheckinSchema(StrictSchema):
    """A check-in: in full for its owner; a contact sees user, sharing, venue (exact
    sharing only), location, shout and effective_at."""

    id = fields.Integer()
    user = fields.Nested(PersonSchema, metadata={"omitted": CONTACT_ONLY})
    sharing = fields.String(
        validate=validate.OneOf(LOCATION_SHARING), metadata={"omitted": CONTACT_ONLY}
    )
    venue = fields.Nested(VenueSchema, allow_none=True)
    location = fields.Nested(LocationSchema)
    accuracy_m = fields.Float(allow_none=True, metadata={"omitted": OWNER_ONLY})
    shout = fields.String(allow_none=True)
    private = fields.Boolean(metadata={"omitted": OWNER_ONLY})
    client_time = fields.DateTime(allow_none=True, metadata={"omitted": OWNER_ONLY})
    effective_at = fields.DateTime(
        metadata={"description": "client_time if given, else server time"}
    )
    created_at = fields.DateTime(metadata={"omitted": OWNER_ONLY})
    eligible = fields.Boolean(metadata={"omitted": OWNER_ONLY})
    reasons = fields.List(fields.Nested(ReasonSchema), metadata={"omitted": OWNER_ONLY})
    points = fields.Integer(metadata={"omitted": OWNER_ONLY})


class RewardsSchema(StrictSchema):
    """What a check-in earned, or why it earned nothing."""

    eligible = fields.Boolean()
    reasons = fields.List(fields.Nested(ReasonSchema))
    points = fields.Integer()
    badges = fields.List(fields.Dict())
    mayorship = fields.Dict(allow_none=True)
    event = fields.Dict(
        allow_none=True,
        metadata={"description": "Whether the named event counted, and why not if it did not"},
    )


class CheckinMeetingSchema(StrictSchema):
    """A meeting this check-in completed."""

    meeting_id = fields.Integer()
    user = fields.Nested(PersonSchema)
    first_time = fields.Boolean()
    replaces_first_meeting_id = fields.Integer(
        allow_none=True,
        metadata={
            "description": "Set when this (replayed) meeting is earlier than the pair's first"
            " meeting so far: it becomes the first, and that meeting's first-meeting bonus"
            " is corrected to a later meeting's (ledger reason first_meeting_moved)"
        },
    )
    points = fields.Integer()


class CheckinResultSchema(StrictSchema):
    """The answer to a check-in."""

    checkin = fields.Nested(CheckinSchema)
    rewards = fields.Nested(RewardsSchema)
    meetings = fields.List(fields.Nested(CheckinMeetingSchema))


class CheckinPageSchema(PageSchema):
    """A page of check-ins, newest first."""

    items = fields.List(fields.Nested(CheckinSchema))


class CheckinListQuerySchema(PageQuerySchema):
    """Paging for check-in lists."""

    cursor = Cursor("time")
