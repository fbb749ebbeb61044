"""Badges, mayors and leaderboards."""

from flask.views import MethodView

from service import clock
from service.auth.tokens import current_user_id
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.common.paging import Offset, sliced
from service.common.schemas import MAX_ID, PageQuerySchema
from service.database import db
from service.rewards import service
from service.rewards.schemas import (
    CatalogueSchema,
    EarnedBadgesSchema,
    LeaderboardQuerySchema,
    LeaderboardSchema,
    MayorSchema,
)
from service.users import profile
from service.users.service import get_by_handle
from service.venues import service as venues

blp = Blueprint("rewards", __name__, url_prefix="/api/v1", description="Badges and mayors")


@blp.route("/badges")
class Badges(MethodView):
    @authenticated(blp)
    @blp.response(200, CatalogueSchema)
    def get(self):
        """The badge catalogue, each with its rule in words"""
        return {"items": service.catalogue(), "next_cursor": None}


@blp.route("/me/badges")
class MyBadges(MethodView):
    @authenticated(blp)
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, EarnedBadgesSchema)
    def get(self, args):
        """My badges and the check-ins that unlocked them"""
        items = service.badges_of(db_session=db.session, user_id=current_user_id(), own=True)
        return sliced(items, args)


@blp.route("/users/<string:handle>/badges")
class UserBadges(MethodView):
    @authenticated(blp)
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, EarnedBadgesSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such user")
    def get(self, args, handle):
        """Someone's badges (for non-contacts, as of the start of the UTC day)"""
        user = get_by_handle(db_session=db.session, handle=handle)
        items = profile.public_badges(
            db_session=db.session, viewer_id=current_user_id(), user=user, now=clock.now()
        )
        return sliced(items, args)


@blp.route(f"/venues/<int(max={MAX_ID}):venue_id>/mayor")
class Mayor(MethodView):
    @authenticated(blp)
    @blp.response(200, MayorSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such venue")
    def get(self, venue_id):
        """The venue's mayor (named only to the mayor and their contacts)"""
        venues.get(db_session=db.session, venue_id=venue_id)
        return service.mayor_of(
            db_session=db.session, viewer_id=current_user_id(), venue_id=venue_id
        )


@blp.route("/leaderboard")
class Leaderboard(MethodView):
    @authenticated(blp)
    @blp.arguments(LeaderboardQuerySchema, location="query")
    @blp.response(200, LeaderboardSchema)
    def get(self, args):
        """Points leaderboard: everyone or me and my contacts, all time or the last 7 days"""
        return service.leaderboard(
            db_session=db.session,
            viewer_id=current_user_id(),
            scope=args["scope"],
            period=args["period"],
            now=clock.now(),
            page=Offset.of(args),
        )
