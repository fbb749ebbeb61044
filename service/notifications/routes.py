"""My notifications: the inbox, marking read, and the live stream."""

from flask import Response, current_app, request
from flask.views import MethodView
from flask_jwt_extended import get_jwt

from service import clock
from service.auth.tokens import current_user_id
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.common.schemas import MAX_ID
from service.database import db
from service.errors import DomainError
from service.notifications import inbox, stream
from service.notifications.schemas import (
    MarkReadResultSchema,
    MarkReadSchema,
    NotificationPageSchema,
    NotificationQuerySchema,
)

blp = Blueprint(
    "notifications", __name__, url_prefix="/api/v1/me/notifications", description="Notifications"
)


@blp.route("")
class MyNotifications(MethodView):
    @authenticated(blp)
    @blp.arguments(NotificationQuerySchema, location="query")
    @blp.response(200, NotificationPageSchema)
    def get(self, args):
        """My notifications, newest first"""
        return inbox.page(
            db_session=db.session,
            user_id=current_user_id(),
            limit=args["limit"],
            before=args["cursor"],
            unread_only=args["unread_only"],
        )


@blp.route("/read")
class MarkRead(MethodView):
    @blp.doc(operationId="markNotificationsRead")
    @authenticated(blp)
    @blp.arguments(MarkReadSchema)
    @blp.response(200, MarkReadResultSchema)
    def post(self, payload):
        """Mark some of my notifications read (by ids, or all up to an id)"""
        user_id = current_user_id()
        marked = inbox.mark_read(db_session=db.session, user_id=user_id, now=clock.now(), **payload)
        unread = inbox.unread_count(db_session=db.session, user_id=user_id)
        db.session.commit()
        return {"marked": marked, "unread_count": unread}


def _last_event_id() -> int | None:
    raw = request.headers.get("Last-Event-ID")
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or not 0 <= int(raw) <= MAX_ID:
        raise DomainError("Last-Event-ID must be the id of a notification this stream sent.")
    return int(raw)


@blp.route("/stream")
class NotificationStream(MethodView):
    @authenticated(blp)
    @blp.alt_response(422, response="DEFAULT_ERROR", description="Bad Last-Event-ID")
    @blp.doc(
        parameters=[
            {
                "in": "header",
                "name": "Last-Event-ID",
                "required": False,
                "schema": {"type": "integer", "minimum": 0},
                "description": "resume after this notification id",
            }
        ],
        responses={
            "200": {
                "description": "Server-Sent Events: `event: notification` with the "
                "notification as `data` and its id as `id`; `: keep-alive` comments; "
                "`event: expired` when the access token expires",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            }
        },
    )
    def get(self):
        """My notifications, live, as Server-Sent Events"""
        body = stream.events(
            app=current_app._get_current_object(),
            user_id=current_user_id(),
            last_id=_last_event_id(),
            expires_at=float(get_jwt()["exp"]),
            heartbeat_s=current_app.config["STREAM_HEARTBEAT_S"],
        )
        return _event_stream(body)


def _event_stream(body) -> Response:
    """Server-Sent Events, sent as they come (no cache, no proxy buffering)."""
    return Response(
        body,
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
