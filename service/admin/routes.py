"""Admin endpoints: decide venue claims, read the audit log."""

from flask.views import MethodView

from service.admin import audit
from service.admin.schemas import AuditPageSchema, AuditQuerySchema
from service.auth.tokens import current_user
from service.claims import service as claims
from service.claims.schemas import AdminClaimQuerySchema, ClaimPageSchema, ClaimSchema, RejectSchema
from service.common import cursor
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.common.schemas import MAX_ID
from service.database import db

blp = Blueprint("admin", __name__, url_prefix="/api/v1/admin", description="Admin")


def _admin():
    user = current_user()
    audit.require_admin(user)
    return user


def _forbidden(view):
    return blp.alt_response(403, response="DEFAULT_ERROR", description="Not an admin")(view)


@blp.route("/claims")
class Claims(MethodView):
    @authenticated(blp)
    @_forbidden
    @blp.arguments(AdminClaimQuerySchema, location="query")
    @blp.response(200, ClaimPageSchema)
    def get(self, args):
        """Venue claims of one status, newest first"""
        _admin()
        items, last = claims.list_claims(
            db_session=db.session,
            limit=args["limit"],
            before=args["cursor"],
            status=args["status"],
        )
        return {"items": items, "next_cursor": cursor.encode(last) if last else None}


@blp.route(f"/claims/<int(max={MAX_ID}):claim_id>/approve")
class ApproveClaim(MethodView):
    @authenticated(blp)
    @_forbidden
    @blp.response(200, ClaimSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such claim")
    @blp.alt_response(409, response="DEFAULT_ERROR", description="Already decided, or owned")
    def post(self, claim_id):
        """Approve a claim: the claimant owns the venue"""
        admin = _admin()
        claim = claims.approve(db_session=db.session, claim_id=claim_id, admin_id=admin.id)
        db.session.commit()
        return claim


@blp.route(f"/claims/<int(max={MAX_ID}):claim_id>/reject")
class RejectClaim(MethodView):
    @authenticated(blp)
    @_forbidden
    @blp.arguments(RejectSchema, required=False)
    @blp.response(200, ClaimSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such claim")
    @blp.alt_response(409, response="DEFAULT_ERROR", description="Already decided")
    def post(self, payload, claim_id):
        """Reject a claim"""
        admin = _admin()
        claim = claims.reject(
            db_session=db.session, claim_id=claim_id, admin_id=admin.id, **payload
        )
        db.session.commit()
        return claim


@blp.route("/audit")
class AuditLog(MethodView):
    @authenticated(blp)
    @_forbidden
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditPageSchema)
    def get(self, args):
        """Every admin action, newest first"""
        _admin()
        items, last = audit.list_entries(
            db_session=db.session, limit=args["limit"], before=args["cursor"]
        )
        return {"items": items, "next_cursor": cursor.encode(last) if last else None}
