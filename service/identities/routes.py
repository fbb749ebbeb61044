"""Online identities: claim, verify (proof in the profile or OAuth), list, unlink."""

from urllib.parse import urlencode

from flask import current_app, redirect, url_for
from flask.views import MethodView

from service import ratelimit
from service.auth.tokens import current_user
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.database import db
from service.identities import oauth, service
from service.identities.fetch import FetchLimits
from service.identities.proofs import Endpoints
from service.identities.schemas import (
    AuthorizeSchema,
    CallbackQuerySchema,
    CallbackSchema,
    IdentityListSchema,
    IdentityPutSchema,
    IdentitySchema,
    IdentityVerifySchema,
)
from service.models.social import NETWORKS

blp = Blueprint("identities", __name__, url_prefix="/api/v1", description="Online identities")
# an unknown network is a 422 naming those that exist (service/common/networks.py)
NETWORK = f"<network({', '.join(NETWORKS)}):network>"
OAUTH_NETWORK = f"<any({', '.join(oauth.OAUTH_NETWORKS)}):network>"


@blp.route("/me/identities")
class Identities(MethodView):
    @authenticated(blp)
    @blp.response(200, IdentityListSchema)
    def get(self):
        """My identities, each with `verified`"""
        mine = service.list_mine(db_session=db.session, user=current_user())
        return {"items": [service.view(i) for i in mine], "next_cursor": None}


@blp.route(f"/me/identities/{NETWORK}")
class IdentityByNetwork(MethodView):
    @authenticated(blp)
    @blp.arguments(IdentityPutSchema)
    @blp.response(200, IdentitySchema)
    @blp.alt_response(201, schema=IdentitySchema, description="Claimed for the first time")
    @blp.alt_response(409, response="DEFAULT_ERROR", description="Verified by someone else")
    def put(self, payload, network):
        """Claim my handle on a network (unverified until proven; replaces the last one)"""
        identity, created = service.claim(
            db_session=db.session, user=current_user(), network=network, handle=payload["handle"]
        )
        db.session.commit()
        return service.view(identity), 201 if created else 200

    @authenticated(blp)
    @blp.response(204)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="Nothing claimed there")
    def delete(self, network):
        """Unlink my handle on a network (withdraws the follows adopted through it)"""
        service.unlink(db_session=db.session, user=current_user(), network=network)
        db.session.commit()


@blp.route(f"/me/identities/{NETWORK}/verify")
class VerifyIdentity(MethodView):
    @authenticated(blp)
    @blp.arguments(IdentityVerifySchema, required=False)
    @blp.response(200, IdentitySchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No claim, or no such sign-in")
    @blp.alt_response(503, response="DEFAULT_ERROR", description="The network cannot be read")
    @ratelimit.identity_checks
    def post(self, payload, network):
        """Verify my claim: the code in my public profile, or a finished OAuth sign-in"""
        identity = service.verify(
            db_session=db.session,
            user=current_user(),
            network=network,
            endpoints=Endpoints.from_config(current_app.config),
            limits=FetchLimits.from_config(current_app.config),
            **(payload or {}),
        )
        db.session.commit()
        return service.view(identity)


@blp.route(f"/me/identities/{OAUTH_NETWORK}/authorize")
class Authorize(MethodView):
    @blp.doc(operationId="startIdentitySignIn")
    @authenticated(blp)
    @blp.response(200, AuthorizeSchema)
    @ratelimit.identity_checks
    def get(self, network):
        """Start signing in with the network: the URL to open (valid 10 minutes)"""
        started = oauth.start(
            db_session=db.session,
            user_id=current_user().id,
            client=oauth.Client.from_config(current_app.config, network),
            redirect_uri=_callback_url(network),
        )
        db.session.commit()
        return started


@blp.route(f"/identities/{OAUTH_NETWORK}/callback")
class Callback(MethodView):
    @blp.doc(operationId="finishIdentitySignIn")
    @blp.arguments(CallbackQuerySchema, location="query")
    @blp.response(200, CallbackSchema)
    @blp.alt_response(302, description="To OAUTH_DONE_URL with the same fields, when set")
    @blp.alt_response(503, response="DEFAULT_ERROR", description="The provider cannot be reached")
    def get(self, args, network):
        """Where the provider sends the browser back: reads who signed in"""
        row = oauth.receive(
            db_session=db.session,
            client=oauth.Client.from_config(current_app.config, network),
            args=args,
        )
        db.session.commit()
        return _to_browser(oauth.signed_in(network, row))


def _to_browser(answer: dict):
    """To ``OAUTH_DONE_URL`` with the answer's fields when one is set, else the JSON."""
    done = current_app.config["OAUTH_DONE_URL"]
    if done:  # in the fragment: it never reaches a server log or a Referer
        return redirect(f"{done}#{urlencode(answer)}")
    return answer


def _callback_url(network: str) -> str:
    """The redirect URI registered with the provider."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    path = url_for("identities.Callback", network=network)
    return base + path if base else url_for("identities.Callback", network=network, _external=True)
