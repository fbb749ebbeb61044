"""Schemas for my profile and public profiles."""

from marshmallow import ValidationError, fields, validate, validates_schema

from service.common.schemas import StrictSchema, json_bool, zone_name
from service.models.user import LOCATION_SHARING

CLOCK_TIME = validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error="Use 24-hour HH:MM.")


def _quiet_hours(user) -> dict | None:
    if user.quiet_hours_start is None:
        return None
    return {
        "start": user.quiet_hours_start.strftime("%H:%M"),
        "end": user.quiet_hours_end.strftime("%H:%M"),
    }


class QuietHoursSchema(StrictSchema):
    """A daily window, in my time zone, when nothing is pushed (it waits in the inbox)."""

    start = fields.String(required=True, validate=CLOCK_TIME, metadata={"example": "22:00"})
    end = fields.String(required=True, validate=CLOCK_TIME, metadata={"example": "07:00"})

    @validates_schema
    def _not_empty(self, data, **_kwargs):
        if data["start"] == data["end"]:
            raise ValidationError("start and end must differ; send null for no quiet hours.")


class MeSchema(StrictSchema):
    """My own profile and settings."""

    id = fields.Integer(dump_only=True)
    handle = fields.String(dump_only=True)
    email = fields.String(dump_only=True)
    display_name = fields.String()
    location_sharing = fields.String(validate=validate.OneOf(LOCATION_SHARING))
    nearby_radius_m = fields.Integer()
    notify_nearby = fields.Boolean()
    nearby_daily_cap = fields.Integer()
    quiet_hours = fields.Function(_quiet_hours, allow_none=True)
    timezone = fields.String(
        allow_none=True,
        metadata={"description": "my chosen zone; null: the zone of my latest check-in"},
    )
    points = fields.Integer(dump_only=True)
    checkin_count = fields.Integer(dump_only=True)
    is_admin = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class MePatchSchema(StrictSchema):
    """Settings a person may change; each one is optional."""

    display_name = fields.String(validate=validate.Length(min=1, max=80))
    location_sharing = fields.String(validate=validate.OneOf(LOCATION_SHARING))
    nearby_radius_m = fields.Integer(strict=True, validate=validate.Range(100, 5000))
    notify_nearby = json_bool()
    nearby_daily_cap = fields.Integer(
        strict=True,
        validate=validate.Range(0, 100),
        metadata={"description": "nearby-friends notifications a day at most (0: none)"},
    )
    quiet_hours = fields.Nested(QuietHoursSchema, allow_none=True)
    timezone = zone_name(
        allow_none=True,
        description="IANA zone for quiet hours and the daily cap; null: follow my check-ins",
    )


class PublicBadgeSchema(StrictSchema):
    """A badge someone holds."""

    key = fields.String()
    name = fields.String()
    level = fields.Integer()


class PublicUserSchema(StrictSchema):
    """What anyone may see of a user: never a location."""

    handle = fields.String()
    display_name = fields.String()
    points = fields.Integer()
    checkin_count = fields.Integer()
    badges = fields.List(fields.Nested(PublicBadgeSchema))
    created_at = fields.DateTime()
    as_of = fields.DateTime(
        allow_none=True,
        metadata={
            "description": "null: live (you or a contact); else the figures as of this "
            "instant, the start of the current UTC day"
        },
    )
