"""A venue's staff: the owner (or an admin) invites, the person accepts or declines."""

from flask import current_app
from flask.views import MethodView

from service.auth.tokens import current_user
from service.common import cursor
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.common.schemas import MAX_ID
from service.database import db
from service.staff import service
from service.staff.schemas import (
    InvitationListSchema,
    InvitationQuerySchema,
    InvitationSchema,
    StaffListSchema,
    StaffMemberSchema,
    StaffQuerySchema,
)

blp = Blueprint("staff", __name__, url_prefix="/api/v1", description="Venue staff")
VENUE = f"/venues/<int(max={MAX_ID}):venue_id>/staff"
INVITATION = f"/me/staff-invitations/<int(max={MAX_ID}):invitation_id>"


def _errors(view):
    view = blp.alt_response(403, response="DEFAULT_ERROR", description="Not the owner")(view)
    return blp.alt_response(404, response="DEFAULT_ERROR", description="No such venue")(view)


def _page(items: list[dict], limit: int, after: str | None) -> dict:
    """A page of people by handle, after the handle in the cursor (a venue's staff is
    a few dozen people: read whole, handed out ``limit`` at a time)."""
    after = after or ""
    rest = sorted((item for item in items if item["handle"] > after), key=lambda i: i["handle"])
    page = rest[:limit]
    more = len(rest) > limit
    return {"items": page, "next_cursor": cursor.encode(page[-1]["handle"]) if more else None}


@blp.route(VENUE)
class Staff(MethodView):
    @authenticated(blp)
    @_errors
    @blp.arguments(StaffQuerySchema, location="query")
    @blp.response(200, StaffListSchema)
    def get(self, args, venue_id):
        """The venue's staff and open invitations, by handle"""
        items = service.list_staff(db_session=db.session, user=current_user(), venue_id=venue_id)
        return _page(items, args["limit"], args.get("cursor"))


@blp.route(f"{VENUE}/<string:handle>")
class StaffMember(MethodView):
    @authenticated(blp)
    @_errors
    @blp.response(201, StaffMemberSchema)
    @blp.alt_response(200, schema=StaffMemberSchema, description="Already invited")
    @blp.alt_response(409, response="DEFAULT_ERROR", description="They declined")
    def put(self, venue_id, handle):
        """Invite someone to be listed as staff (counts only once they accept)"""
        person, new = service.invite(
            db_session=db.session, user=current_user(), venue_id=venue_id, handle=handle
        )
        db.session.commit()
        return person, 201 if new else 200

    @authenticated(blp)
    @_errors
    @blp.response(204)
    def delete(self, venue_id, handle):
        """Take someone off the staff, or withdraw their invitation"""
        service.remove(
            db_session=db.session,
            user=current_user(),
            venue_id=venue_id,
            handle=handle,
            mayorship_points=current_app.config["POINTS_MAYORSHIP"],
        )
        db.session.commit()


@blp.route("/me/staff-invitations")
class MyInvitations(MethodView):
    @authenticated(blp)
    @blp.arguments(InvitationQuerySchema, location="query")
    @blp.response(200, InvitationListSchema)
    def get(self, args):
        """Venues that invited me to be listed as their staff"""
        items, last = service.my_invitations(
            db_session=db.session,
            user=current_user(),
            limit=args["limit"],
            after=args["cursor"],
        )
        next_cursor = cursor.encode(last[0].isoformat(), last[1]) if last else None
        return {"items": items, "next_cursor": next_cursor}


def _answer(invitation_id: int, accept: bool) -> dict:
    answered = service.answer(
        db_session=db.session,
        user=current_user(),
        invitation_id=invitation_id,
        accept=accept,
        mayorship_points=current_app.config["POINTS_MAYORSHIP"],
    )
    db.session.commit()
    return answered


@blp.route(f"{INVITATION}/accept")
class AcceptInvitation(MethodView):
    @authenticated(blp)
    @blp.response(200, InvitationSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="Not my invitation")
    def post(self, invitation_id):
        """Accept: from now on my visits leave this venue's footfall and mayorship"""
        return _answer(invitation_id, accept=True)


@blp.route(f"{INVITATION}/decline")
class DeclineInvitation(MethodView):
    @authenticated(blp)
    @blp.response(200, InvitationSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="Not my invitation")
    def post(self, invitation_id):
        """Decline (or stop being staff): my visits count like anyone's"""
        return _answer(invitation_id, accept=False)
