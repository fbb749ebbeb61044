"""Venues: create, read, edit, delete and nearby search."""

from flask.views import MethodView

from geo.coords import LatLon
from service import ratelimit
from service.auth.tokens import current_user
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.common.geojson import documented, page_answer
from service.common.paging import Offset
from service.common.schemas import MAX_ID
from service.database import db
from service.idempotency import idempotent
from service.venues import edits, service
from service.venues.schemas import (
    NearbyVenueSchema,
    NearbyVenuesPageSchema,
    NearbyVenuesQuerySchema,
    VenueCreateSchema,
    VenuePatchSchema,
    VenueSchema,
)

blp = Blueprint("venues", __name__, url_prefix="/api/v1/venues", description="Venues")


@blp.route("")
class Venues(MethodView):
    @authenticated(blp)
    @idempotent
    @blp.arguments(VenueCreateSchema)
    @blp.response(201, VenueSchema)
    def post(self, payload):
        """Create a venue"""
        return service.create(db_session=db.session, user=current_user(), **payload)


@blp.route("/nearby")
class NearbyVenues(MethodView):
    @authenticated(blp)
    @blp.arguments(NearbyVenuesQuerySchema(), location="query")  # built once, not per request
    @blp.response(200, NearbyVenuesPageSchema)
    @blp.doc(responses=documented(NearbyVenuesPageSchema, NearbyVenueSchema))
    @ratelimit.nearby
    def get(self, args):
        """Venues near a position, nearest first"""
        page = service.nearby(
            db_session=db.reader,
            position=LatLon(args["lat"], args["lon"]),
            radius_m=args["radius_m"],
            page=Offset.of(args),
            category=args.get("category"),
            q=args.get("q"),
        )
        return page_answer(page, NearbyVenueSchema, NearbyVenuesPageSchema)


@blp.route(f"/<int(max={MAX_ID}):venue_id>")
class VenueById(MethodView):
    @authenticated(blp)
    @blp.response(200, VenueSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such venue")
    def get(self, venue_id):
        """A venue"""
        return service.to_dict(service.get(db_session=db.session, venue_id=venue_id))

    @authenticated(blp)
    @blp.arguments(VenuePatchSchema, required=False)
    @blp.response(200, VenueSchema)
    @blp.alt_response(403, response="DEFAULT_ERROR", description="Not yours to change")
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such venue")
    def patch(self, changes, venue_id):
        """Change a venue (owner, admin, or its creator until claimed or visited)

        Its creator may change it until it is claimed or someone else has checked in
        there. Once it has check-ins, a move to another time zone is refused (422).
        """
        venue = edits.update(
            db_session=db.session, user=current_user(), venue_id=venue_id, changes=changes
        )
        db.session.commit()
        return venue

    @authenticated(blp)
    @blp.response(204)
    @blp.alt_response(403, response="DEFAULT_ERROR", description="Not yours to delete")
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such venue")
    def delete(self, venue_id):
        """Delete a venue (same rights as a change; its check-in history is kept)"""
        edits.delete(db_session=db.session, user=current_user(), venue_id=venue_id)
        db.session.commit()
