"""My profile and settings; public profiles."""

from flask.views import MethodView

from service import clock
from service.auth.tokens import current_user
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.database import db
from service.users import profile, service
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
        """A user's public profile (never a location; for non-contacts as of today's start, UTC)"""
        user = service.get_by_handle(db_session=db.session, handle=handle)
        return profile.public_profile(
            db_session=db.session, viewer_id=current_user().id, user=user, now=clock.now()
        )
