"""My push devices."""

from flask.views import MethodView

from service import clock
from service.auth.tokens import current_user_id
from service.common import cursor
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.common.schemas import MAX_ID
from service.database import db
from service.devices import service
from service.devices.schemas import DevicePageSchema, DeviceQuerySchema, DeviceSchema
from service.idempotency import idempotent

blp = Blueprint("devices", __name__, url_prefix="/api/v1/me/devices", description="Push devices")


@blp.route("")
class MyDevices(MethodView):
    @authenticated(blp)
    @idempotent
    @blp.arguments(DeviceSchema)
    @blp.response(201, DeviceSchema)
    @blp.alt_response(200, schema=DeviceSchema, description="Already registered to me")
    def post(self, payload):
        """Register this device for push notifications"""
        device, new = service.register(
            db_session=db.session, user_id=current_user_id(), now=clock.now(), **payload
        )
        return device, 201 if new else 200

    @authenticated(blp)
    @blp.arguments(DeviceQuerySchema, location="query")
    @blp.response(200, DevicePageSchema)
    def get(self, args):
        """My devices"""
        before = args["cursor"]
        items, last = service.list_mine(
            db_session=db.session,
            user_id=current_user_id(),
            limit=args["limit"],
            before=before,
        )
        return {"items": items, "next_cursor": cursor.encode(last) if last else None}


@blp.route(f"/<int(max={MAX_ID}):device_id>")
class MyDevice(MethodView):
    @authenticated(blp)
    @blp.response(204)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such device")
    def delete(self, device_id):
        """Stop pushing to a device"""
        service.remove(db_session=db.session, user_id=current_user_id(), device_id=device_id)
        db.session.commit()
