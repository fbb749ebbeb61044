"""My profile and settings; public profiles."""

from flask.views import MethodView

from service.auth.tokens import current_user
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.database import db
from service.rewards import service as rewards
from service.users import service
from service.users.schemas import MePatchSchema, MeSchema, PublicUserSchema

blp = Blueprint("users", __name__, url_prefix="/api/v1", description="Profiles and settings")


@blp.route("/me")
class Me(MethodView):
    @authenticated(blp)
    @blp.response(200, MeSchema)
    def get(self):
        """My profile and settings"""
        return current_user()

    @authenticated(blp)
    @blp.arguments(MePatchSchema, required=False)
    @blp.response(200, MeSchema)
    def patch(self, changes):
        """Change my display name or settings"""
        user = service.update_settings(db_session=db.session, user=current_user(), changes=changes)
        db.session.commit()
        return user


@blp.route("/users/<string:handle>")
class PublicProfile(MethodView):
    @authenticated(blp)
    @blp.response(200, PublicUserSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such user")
    def get(self, handle):
        """A user's public profile (never a location)"""
        user = service.get_by_handle(db_session=db.session, handle=handle)
        badges = rewards.badges_of(db_session=db.session, user_id=user.id)
        return {
            "handle": user.handle,
            "display_name": user.display_name,
            "points": user.points,
            "checkin_count": user.checkin_count,
            "badges": badges,
            "created_at": user.created_at,
        }
