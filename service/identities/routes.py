"""Linked online identities: PUT / GET / DELETE."""

from flask.views import MethodView

from service.auth.tokens import current_user
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.database import db
from service.identities import service
from service.identities.schemas import IdentityListSchema, IdentityPutSchema, IdentitySchema
from service.models.social import NETWORKS

blp = Blueprint(
    "identities", __name__, url_prefix="/api/v1/me/identities", description="Online identities"
)
NETWORK = f"<any({', '.join(NETWORKS)}):network>"


@blp.route("")
class Identities(MethodView):
    @authenticated(blp)
    @blp.response(200, IdentityListSchema)
    def get(self):
        """My linked identities"""
        return {
            "items": service.list_mine(db_session=db.session, user=current_user()),
            "next_cursor": None,
        }


@blp.route(f"/{NETWORK}")
class IdentityByNetwork(MethodView):
    @authenticated(blp)
    @blp.arguments(IdentityPutSchema)
    @blp.response(200, IdentitySchema)
    @blp.alt_response(201, schema=IdentitySchema, description="Linked for the first time")
    @blp.alt_response(409, response="DEFAULT_ERROR", description="Linked to someone else")
    def put(self, payload, network):
        """Link my handle on a network (replaces the previous one)"""
        identity, created = service.link(
            db_session=db.session, user=current_user(), network=network, handle=payload["handle"]
        )
        db.session.commit()
        return identity, 201 if created else 200

    @authenticated(blp)
    @blp.response(204)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="Nothing linked there")
    def delete(self, network):
        """Unlink my handle on a network"""
        service.unlink(db_session=db.session, user=current_user(), network=network)
        db.session.commit()
