"""Calendar schemas: the feed's query and its secret URL."""

import marshmallow as ma
from marshmallow import fields

from service.common.schemas import StrictSchema


class FeedQuerySchema(StrictSchema):
    """The feed's secret token (calendar apps send nothing else)."""

    class Meta:
        unknown = ma.EXCLUDE  # some calendar apps add parameters of their own

    token = fields.String(
        load_default="",
        metadata={"description": "The secret from POST /me/calendar-token's feed_url"},
    )


class CalendarFeedSchema(StrictSchema):
    """My calendar feed's secret URL: anyone holding it reads the events I am going to.
    Shown only once; create it again to rotate it (the old URL stops working)."""

    feed_url = fields.String(metadata={"description": "https URL of the iCalendar feed"})
    webcal_url = fields.String(
        metadata={"description": "The same as webcal://, which phones open in their calendar"}
    )
