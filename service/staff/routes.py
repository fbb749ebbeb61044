"""A venue's staff, managed by its owner (or an admin)."""

from flask.views import MethodView

from service.auth.tokens import current_user
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.common.schemas import MAX_ID
from service.contacts.schemas import PersonSchema
from service.database import db
from service.staff import service
from service.staff.schemas import StaffListSchema

blp = Blueprint("staff", __name__, url_prefix="/api/v1/venues", description="Venue staff")
VENUE = f"/<int(max={MAX_ID}):venue_id>/staff"


def _errors(view):
    view = blp.alt_response(403, response="DEFAULT_ERROR", description="Not the owner")(view)
    return blp.alt_response(404, response="DEFAULT_ERROR", description="No such venue")(view)


@blp.route(VENUE)
class Staff(MethodView):
    @authenticated(blp)
    @_errors
    @blp.response(200, StaffListSchema)
    def get(self, venue_id):
        """The venue's staff (left out of its footfall and mayorship)"""
        items = service.list_staff(db_session=db.session, user=current_user(), venue_id=venue_id)
        return {"items": items, "next_cursor": None}


@blp.route(f"{VENUE}/<string:handle>")
class StaffMember(MethodView):
    @authenticated(blp)
    @_errors
    @blp.response(201, PersonSchema)
    @blp.alt_response(200, schema=PersonSchema, description="Already on the staff")
    def put(self, venue_id, handle):
        """List someone as staff"""
        person, new = service.add(
            db_session=db.session, user=current_user(), venue_id=venue_id, handle=handle
        )
        db.session.commit()
        return person, 201 if new else 200

    @authenticated(blp)
    @_errors
    @blp.response(204)
    def delete(self, venue_id, handle):
        """Take someone off the staff list"""
        service.remove(db_session=db.session, user=current_user(), venue_id=venue_id, handle=handle)
        db.session.commit()
