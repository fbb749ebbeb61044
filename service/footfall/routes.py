"""A venue's footfall, for its owner or an admin: JSON and CSV."""

from flask import Response
from flask.views import MethodView

from service.auth.tokens import current_user
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.common.json_body import as_json
from service.common.schemas import MAX_ID
from service.database import db
from service.footfall import csv_export, service
from service.footfall.schemas import StatsQuerySchema, StatsSchema

blp = Blueprint("footfall", __name__, url_prefix="/api/v1/venues", description="Footfall")
VENUE = f"/<int(max={MAX_ID}):venue_id>"


def _errors(view):
    view = blp.alt_response(403, response="DEFAULT_ERROR", description="Not the owner")(view)
    return blp.alt_response(404, response="DEFAULT_ERROR", description="No such venue")(view)


def _stats(args: dict, venue_id: int) -> dict:
    stats = service.stats(
        db_session=db.session,
        reader=db.reader,
        user=current_user(),
        venue_id=venue_id,
        first=args["from_"],
        last=args["to"],
        granularity=args["granularity"],
        tz=args["tz"],
    )
    db.session.commit()  # an admin's look is audited
    return stats


@blp.route(f"{VENUE}/stats")
class Stats(MethodView):
    @blp.doc(operationId="getVenueStats")
    @authenticated(blp)
    @_errors
    @blp.arguments(StatsQuerySchema, location="query")
    @blp.response(200, StatsSchema)
    def get(self, args, venue_id):
        """Footfall of a venue I own: totals, a series, weekday x hour, the peak"""
        return as_json(_stats(args, venue_id), StatsSchema)


@blp.route(f"{VENUE}/stats.csv")
class StatsCsv(MethodView):
    @blp.doc(operationId="getVenueStatsCsv")
    @authenticated(blp)
    @_errors
    @blp.arguments(StatsQuerySchema, location="query")
    @blp.doc(
        responses={
            "200": {
                "description": "The same figures as CSV (a header row, then one row each "
                "for the total, every bucket and every weekday-hour cell)",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    )
    def get(self, args, venue_id):
        """Footfall of a venue I own, as CSV"""
        stats = _stats(args, venue_id)
        name = f"venue-{venue_id}-footfall-{stats['from']}-{stats['to']}.csv"
        return Response(
            csv_export.render(stats),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
