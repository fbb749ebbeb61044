"""Schemas for meeting plans."""

from marshmallow import fields, validate

from service.common.cursor import Cursor
from service.common.schemas import MAX_ID, LocationSchema, PageQuerySchema, PageSchema, StrictSchema
from service.contacts.schemas import PersonSchema
from service.models.plan import OUTCOMES

HANDLE = validate.Length(min=1, max=30)


class PlanCreateSchema(StrictSchema):
    """I meet a contact at a venue at ``at``; another contact watches until ``check_by``."""

    with_ = fields.String(
        data_key="with",
        required=True,
        validate=HANDLE,
        metadata={"description": "handle of the contact I meet"},
    )
    venue_id = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))
    at = fields.AwareDateTime(required=True, metadata={"description": "when we meet"})
    safety_contact = fields.String(
        required=True,
        validate=HANDLE,
        metadata={"description": "handle of the contact who watches (told who, where, when)"},
    )
    check_by = fields.AwareDateTime(
        required=True,
        metadata={
            "description": "at most 12 hours after `at`: by then a check-in there or "
            "`POST /me/plans/{id}/ok`, or the safety contact is alerted"
        },
    )


class PlanVenueSchema(StrictSchema):
    """Where the plan is."""

    id = fields.Integer()
    name = fields.String()
    location = fields.Nested(LocationSchema)


class _PlanStateSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    venue = fields.Nested(PlanVenueSchema)
    at = fields.DateTime()
    check_by = fields.DateTime()
    watched = fields.Boolean(metadata={"description": "the safety contact accepted to watch"})
    accepted_at = fields.DateTime(allow_none=True)
    arrived_at = fields.DateTime(
        allow_none=True, metadata={"description": "a check-in there (or ≤ 75 m away) in time"}
    )
    ok_at = fields.DateTime(allow_none=True, metadata={"description": "said all is well"})
    alerts = fields.Integer(metadata={"description": "urgent alerts sent to the safety contact"})
    open = fields.Boolean()
    outcome = fields.String(allow_none=True, validate=validate.OneOf(OUTCOMES))
    closed_at = fields.DateTime(
        allow_none=True, metadata={"description": "deleted 7 days after it closed"}
    )
    created_at = fields.DateTime()


class PlanSchema(_PlanStateSchema):
    """One of my plans: whom I meet, who watches, how it went."""

    with_ = fields.Nested(PersonSchema, data_key="with", attribute="with")
    safety_contact = fields.Nested(PersonSchema)


class WatchedPlanSchema(_PlanStateSchema):
    """A plan I was asked to watch: whose, whom they meet, where, when."""

    user = fields.Nested(PersonSchema, metadata={"description": "whose plan"})
    with_ = fields.Nested(PersonSchema, data_key="with", attribute="with")


class PlanPageSchema(PageSchema):
    """A page of my plans, newest first."""

    items = fields.List(fields.Nested(PlanSchema))


class WatchedPlanPageSchema(PageSchema):
    """A page of the plans I was asked to watch, newest first."""

    items = fields.List(fields.Nested(WatchedPlanSchema))


class PlanQuerySchema(PageQuerySchema):
    """Paging for plans."""

    cursor = Cursor("id")
