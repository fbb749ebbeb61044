"""Meeting plans: mine, and the ones I was asked to watch (PRODUCT.md, "Meeting safely")."""

from flask.views import MethodView

from service.auth.tokens import current_user, current_user_id
from service.common import cursor
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.common.schemas import MAX_ID
from service.database import db
from service.idempotency import idempotent
from service.plans import service
from service.plans.schemas import (
    PlanCreateSchema,
    PlanPageSchema,
    PlanQuerySchema,
    PlanSchema,
    WatchedPlanPageSchema,
    WatchedPlanSchema,
)

blp = Blueprint("plans", __name__, url_prefix="/api/v1/me", description="Meeting plans")
PLAN = f"/plans/<int(max={MAX_ID}):plan_id>"
WATCHED = f"/watching/<int(max={MAX_ID}):plan_id>"


def _page(items: list[dict], last: int | None) -> dict:
    return {"items": items, "next_cursor": cursor.encode(last) if last is not None else None}


@blp.route("/plans")
class MyPlans(MethodView):
    @authenticated(blp)
    @idempotent
    @blp.arguments(PlanCreateSchema)
    @blp.response(201, PlanSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such venue")
    def post(self, payload):
        """Plan to meet a contact, with another contact watching over it"""
        return service.create(  # committed by @idempotent, with the key's answer
            db_session=db.session,
            user=current_user(),
            with_handle=payload["with_"],
            safety_handle=payload["safety_contact"],
            venue_id=payload["venue_id"],
            at=payload["at"],
            check_by=payload["check_by"],
        )

    @authenticated(blp)
    @blp.arguments(PlanQuerySchema, location="query")
    @blp.response(200, PlanPageSchema)
    def get(self, args):
        """My plans, newest first"""
        items, last = service.list_mine(
            db_session=db.session,
            user_id=current_user_id(),
            limit=args["limit"],
            before=args["cursor"],
        )
        return _page(items, last)


@blp.route(PLAN)
class MyPlan(MethodView):
    @authenticated(blp)
    @blp.response(204)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="Not my plan")
    def delete(self, plan_id):
        """Cancel an open plan (my safety contact is told), or delete a closed one"""
        service.cancel(db_session=db.session, user=current_user(), plan_id=plan_id)
        db.session.commit()


@blp.route(f"{PLAN}/ok")
class PlanOk(MethodView):
    @blp.doc(operationId="markPlanOk")
    @authenticated(blp)
    @blp.response(200, PlanSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="Not my plan")
    @blp.alt_response(409, response="DEFAULT_ERROR", description="The plan is closed")
    def post(self, plan_id):
        """All is well: my safety contact is told, and the plan closes"""
        plan = service.all_good(db_session=db.session, user=current_user(), plan_id=plan_id)
        db.session.commit()
        return plan


@blp.route("/watching")
class Watching(MethodView):
    @authenticated(blp)
    @blp.arguments(PlanQuerySchema, location="query")
    @blp.response(200, WatchedPlanPageSchema)
    def get(self, args):
        """Plans my contacts asked me to watch, newest first"""
        items, last = service.list_watching(
            db_session=db.session,
            user_id=current_user_id(),
            limit=args["limit"],
            before=args["cursor"],
        )
        return _page(items, last)


@blp.route(f"{WATCHED}/accept")
class AcceptWatch(MethodView):
    @authenticated(blp)
    @blp.response(200, WatchedPlanSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="Not a plan I was asked to watch")
    @blp.alt_response(409, response="DEFAULT_ERROR", description="The plan is closed")
    def post(self, plan_id):
        """Agree to watch: I am told when they arrive, and alerted if they do not"""
        plan = service.accept(db_session=db.session, user=current_user(), plan_id=plan_id)
        db.session.commit()
        return plan
