"""Schemas for venue footfall statistics."""

from marshmallow import fields, validate

from service.common.schemas import StrictSchema, zone_name
from service.footfall.grid import GRANULARITIES


class StatsQuerySchema(StrictSchema):
    """A range of local dates (both included), a bucket size and a time zone."""

    from_ = fields.Date(
        data_key="from",
        load_default=None,
        metadata={"description": "first local date, YYYY-MM-DD (default: 29 days before to)"},
    )
    to = fields.Date(
        load_default=None, metadata={"description": "last local date (default: today)"}
    )
    granularity = fields.String(load_default="day", validate=validate.OneOf(GRANULARITIES))
    tz = zone_name(
        load_default=None,
        description="IANA zone of the dates and buckets (default: the venue's)",
    )


class BucketSchema(StrictSchema):
    """One bucket; every number is null when it is suppressed."""

    start = fields.String(metadata={"description": "RFC 3339, local time with offset"})
    checkins = fields.Integer(allow_none=True)
    visitors = fields.Integer(allow_none=True)
    new_visitors = fields.Integer(allow_none=True)
    returning_visitors = fields.Integer(allow_none=True)
    meetings = fields.Integer(allow_none=True)
    suppressed = fields.Boolean(
        metadata={
            "description": "the whole bucket is hidden: fewer than 5 distinct visitors, or "
            "hidden so that another hidden figure cannot be worked out from the totals; a "
            "single null number (new and returning, meetings) is hidden the same way"
        }
    )


class CellSchema(StrictSchema):
    """Check-ins at one weekday and local hour over the range."""

    checkins = fields.Integer(allow_none=True)
    suppressed = fields.Boolean()


class PeakSchema(StrictSchema):
    """The busiest weekday and hour shown."""

    weekday = fields.Integer(metadata={"description": "Monday = 0"})
    weekday_name = fields.String()
    hour = fields.Integer()
    checkins = fields.Integer()


class StatsSchema(StrictSchema):
    """A venue's footfall: aggregates only, never who visited."""

    venue_id = fields.Integer()
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    granularity = fields.String(validate=validate.OneOf(GRANULARITIES))
    tz = fields.String()
    source = fields.String(
        validate=validate.OneOf(["rollup", "raw"]),
        metadata={"description": "raw for another tz than the venue's"},
    )
    suppressed = fields.Boolean()
    total_checkins = fields.Integer(allow_none=True)
    unique_visitors = fields.Integer(allow_none=True)
    new_visitors = fields.Integer(
        allow_none=True, metadata={"description": "first check-in here ever in the range"}
    )
    returning_visitors = fields.Integer(allow_none=True)
    meetings = fields.Integer(allow_none=True, metadata={"description": "meetings hosted"})
    series = fields.List(fields.Nested(BucketSchema))
    weekday_hour = fields.List(
        fields.List(fields.Nested(CellSchema)), metadata={"description": "7 x 24, Monday first"}
    )
    peak_hour = fields.Nested(PeakSchema, allow_none=True)
    suppression_threshold = fields.Integer()
