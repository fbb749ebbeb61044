"""Check-ins: create (idempotent), read one, list mine."""

from flask import current_app
from flask.views import MethodView

from service.auth.tokens import current_user
from service.checkins import service
from service.checkins.schemas import (
    CheckinCreateSchema,
    CheckinListQuerySchema,
    CheckinPageSchema,
    CheckinResultSchema,
    CheckinSchema,
)
from service.common import cursor
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.common.schemas import MAX_ID
from service.database import db
from service.idempotency import idempotent
from service.meetings import service as meetings
from service.rewards.policy import PointsPolicy

blp = Blueprint("checkins", __name__, url_prefix="/api/v1", description="Check-ins")


@blp.route("/checkins")
class Checkins(MethodView):
    @authenticated(blp)
    @idempotent
    @blp.arguments(CheckinCreateSchema)
    @blp.response(201, CheckinResultSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such venue")
    @blp.alt_response(409, response="DEFAULT_ERROR", description="Same key still running")
    @blp.alt_response(429, response="DEFAULT_ERROR", description="Over 30 check-ins an hour")
    @blp.doc(
        parameters=[
            {
                "in": "header",
                "name": "Idempotency-Key",
                "required": False,
                "schema": {"type": "string", "maxLength": 255},
            }
        ]
    )
    def post(self, payload):
        """Check in at a venue"""
        user = current_user()
        result = service.check_in(
            db_session=db.session,
            user=user,
            policy=PointsPolicy.from_config(current_app.config),
            checkins_per_hour=current_app.config["CHECKINS_PER_HOUR"],
            **payload,
        )
        meetings.with_faces(db_session=db.session, user_id=user.id, meetings=result["meetings"])
        return result


@blp.route(f"/checkins/<int(max={MAX_ID}):checkin_id>")
class CheckinById(MethodView):
    @authenticated(blp)
    @blp.response(200, CheckinSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such check-in")
    def get(self, checkin_id):
        """One of my check-ins, or a contact's as they share it"""
        shown = service.get_visible(
            db_session=db.session, viewer=current_user(), checkin_id=checkin_id
        )
        db.session.commit()  # an admin's look is audited
        return shown


@blp.route("/me/checkins")
class MyCheckins(MethodView):
    @authenticated(blp)
    @blp.arguments(CheckinListQuerySchema, location="query")
    @blp.response(200, CheckinPageSchema)
    def get(self, args):
        """My check-ins, newest first"""
        after = args["cursor"]
        items, last = service.list_mine(
            db_session=db.reader, user=current_user(), limit=args["limit"], after=after
        )
        return {"items": items, "next_cursor": cursor.encode(*last) if last else None}
