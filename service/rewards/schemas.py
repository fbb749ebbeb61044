"""Schemas for badges, mayors and leaderboards."""

from marshmallow import fields, validate

from service.common.schemas import PageQuerySchema, PageSchema, StrictSchema
from service.contacts.schemas import PersonSchema

SCOPES = ("global", "contacts")
PERIODS = ("week", "all")


class CatalogueBadgeSchema(StrictSchema):
    """A badge in the catalogue: its rule in words and as data."""

    key = fields.String()
    name = fields.String()
    description = fields.String()
    kind = fields.String()
    params = fields.Dict()
    levels = fields.List(fields.Integer(), metadata={"description": "Threshold per level"})
    earnable = fields.Boolean()


class CatalogueSchema(PageSchema):
    """The whole catalogue."""

    items = fields.List(fields.Nested(CatalogueBadgeSchema))


class EarnedBadgeSchema(StrictSchema):
    """A badge someone holds and the check-in that unlocked it."""

    key = fields.String()
    name = fields.String()
    description = fields.String()
    level = fields.Integer()
    awarded_at = fields.DateTime(metadata={"description": "for others' badges: the day (UTC)"})
    checkin_id = fields.Integer(allow_none=True, metadata={"description": "mine only"})


class EarnedBadgesSchema(PageSchema):
    """Badges held, newest first."""

    items = fields.List(fields.Nested(EarnedBadgeSchema))


class MayorSchema(StrictSchema):
    """A venue's mayor, if the viewer may know who it is."""

    venue_id = fields.Integer()
    has_mayor = fields.Boolean()
    mayor = fields.Nested(PersonSchema, allow_none=True)
    days = fields.Integer(allow_none=True)
    since = fields.DateTime(allow_none=True)


class LeaderboardQuerySchema(PageQuerySchema):
    """Who to rank and over what period."""

    scope = fields.String(load_default="global", validate=validate.OneOf(SCOPES))
    period = fields.String(load_default="all", validate=validate.OneOf(PERIODS))


class LeaderSchema(StrictSchema):
    """A rank on the leaderboard."""

    rank = fields.Integer()
    user = fields.Nested(PersonSchema)
    points = fields.Integer()


class LeaderboardSchema(PageSchema):
    """Highest points first."""

    scope = fields.String(validate=validate.OneOf(SCOPES))
    period = fields.String(validate=validate.OneOf(PERIODS))
    items = fields.List(fields.Nested(LeaderSchema))
