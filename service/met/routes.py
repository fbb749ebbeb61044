"""The people I met in person: JSON for apps, and files the networks import."""

from flask import Response
from flask.views import MethodView

from service.auth.tokens import current_user_id
from service.common import cursor
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.database import db
from service.met import exports, service
from service.met.schemas import MetExportQuerySchema, MetPageSchema, MetQuerySchema

blp = Blueprint("met", __name__, url_prefix="/api/v1/me", description="Met in person")

EXPORT_ANSWER = {
    "200": {
        "description": "An attachment. mastodon: the CSV Mastodon's Import → Lists takes "
        "(a header `List name,Account address`, then rows `Met IRL,user@instance`); "
        "bluesky, github, twitter: text/plain, one handle per line. Only contacts I met, "
        "through their verified identity on that network; at most 20,000 (Mastodon's "
        "import limit), the most recently met first.",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "text/plain": {"schema": {"type": "string"}},
        },
    }
}


@blp.route("/met")
class Met(MethodView):
    @authenticated(blp)
    @blp.arguments(MetQuerySchema, location="query")
    @blp.response(200, MetPageSchema)
    def get(self, args):
        """People I met in person, with their verified identities, most recently met first"""
        items, last = service.list_met(
            db_session=db.reader,
            user_id=current_user_id(),
            limit=args["limit"],
            after=args["cursor"],
            network=args["network"],
            since=args["since"],
        )
        next_cursor = cursor.encode(last[0].isoformat(), last[1]) if last else None
        return {"items": items, "next_cursor": next_cursor}


@blp.route("/met.csv")
class MetExport(MethodView):
    @authenticated(blp)
    @blp.arguments(MetExportQuerySchema, location="query")
    @blp.doc(responses=EXPORT_ANSWER)
    def get(self, args):
        """People I met, as a file for a network's import (Mastodon: a list "Met IRL")"""
        handles = service.export_handles(
            db_session=db.reader,
            user_id=current_user_id(),
            network=args["network"],
            since=args["since"],
        )
        body, mimetype, name = exports.render(args["network"], handles)
        disposition = f'attachment; filename="{name}"'
        return Response(body, mimetype=mimetype, headers={"Content-Disposition": disposition})
