"""My in-person meetings."""

from flask.views import MethodView

from service.auth.tokens import current_user_id
from service.common import cursor
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.database import db
from service.meetings import service
from service.meetings.schemas import MeetingPageSchema, MeetingQuerySchema

blp = Blueprint("meetings", __name__, url_prefix="/api/v1/me/meetings", description="Meetings")


@blp.route("")
class MyMeetings(MethodView):
    @authenticated(blp)
    @blp.arguments(MeetingQuerySchema, location="query")
    @blp.response(200, MeetingPageSchema)
    def get(self, args):
        """My in-person meetings: who, where, when, first time or not"""
        after = args["cursor"]
        items, last = service.list_mine(
            db_session=db.session, user_id=current_user_id(), limit=args["limit"], after=after
        )
        next_cursor = cursor.encode(last[0].isoformat(), last[1]) if last else None
        return {"items": items, "next_cursor": next_cursor}
