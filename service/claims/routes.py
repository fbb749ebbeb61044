"""Claim a venue; my claims; the venues I own."""

from flask.views import MethodView

from service.auth.tokens import current_user, current_user_id
from service.claims import service
from service.claims.schemas import (
    ClaimCreateSchema,
    ClaimPageSchema,
    ClaimQuerySchema,
    ClaimSchema,
    OwnedVenuePageSchema,
)
from service.common import cursor
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.common.schemas import MAX_ID
from service.database import db
from service.idempotency import idempotent

blp = Blueprint("claims", __name__, url_prefix="/api/v1", description="Venue claims")


@blp.route(f"/venues/<int(max={MAX_ID}):venue_id>/claim")
class ClaimVenue(MethodView):
    @authenticated(blp)
    @idempotent
    @blp.arguments(ClaimCreateSchema, required=False)
    @blp.response(201, ClaimSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such venue")
    @blp.alt_response(409, response="DEFAULT_ERROR", description="Owned, or already claimed")
    def post(self, payload, venue_id):
        """Claim a venue I own (an admin approves)"""
        return service.ask(db_session=db.session, user=current_user(), venue_id=venue_id, **payload)


@blp.route("/me/claims")
class MyClaims(MethodView):
    @authenticated(blp)
    @blp.arguments(ClaimQuerySchema, location="query")
    @blp.response(200, ClaimPageSchema)
    def get(self, args):
        """My venue claims, newest first"""
        items, last = service.list_claims(
            db_session=db.session,
            limit=args["limit"],
            before=args["cursor"],
            user_id=current_user_id(),
        )
        return {"items": items, "next_cursor": cursor.encode(last) if last else None}


@blp.route("/me/venues")
class MyVenues(MethodView):
    @authenticated(blp)
    @blp.arguments(ClaimQuerySchema, location="query")
    @blp.response(200, OwnedVenuePageSchema)
    def get(self, args):
        """The venues I own"""
        items, last = service.owned_venues(
            db_session=db.session,
            user_id=current_user_id(),
            limit=args["limit"],
            before=args["cursor"],
        )
        return {"items": items, "next_cursor": cursor.encode(last) if last else None}
