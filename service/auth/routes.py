"""Registration, login and token refresh."""

from flask.views import MethodView

from service import ratelimit
from service.auth import service, sessions
from service.auth.schemas import (
    LoginSchema,
    LogoutSchema,
    RefreshSchema,
    RegisteredSchema,
    RegisterSchema,
    TokensSchema,
)
from service.common.blueprint import Blueprint
from service.database import db
from service.errors import Unauthorized

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Accounts and tokens")


@blp.route("/register")
class Register(MethodView):
    @blp.arguments(RegisterSchema)
    @blp.response(201, RegisteredSchema)
    @blp.alt_response(409, response="DEFAULT_ERROR", description="Handle or email taken")
    @ratelimit.sign_in
    def post(self, payload):
        """Create an account and sign in"""
        user = service.register(db_session=db.session, **payload)
        tokens = sessions.issue(db.session, user)
        db.session.commit()
        return {"user": user, **tokens}


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokensSchema)
    @blp.alt_response(401, response="DEFAULT_ERROR", description="Wrong login or password")
    @blp.alt_response(429, response="DEFAULT_ERROR", description="Too many failed logins")
    @ratelimit.sign_in
    def post(self, payload):
        """Sign in with a handle or email and a password"""
        user = service.authenticate(db_session=db.session, **payload)
        tokens = sessions.issue(db.session, user)
        db.session.commit()
        return tokens


@blp.route("/refresh")
class Refresh(MethodView):
    @blp.arguments(RefreshSchema)
    @blp.response(200, TokensSchema)
    @blp.alt_response(401, response="DEFAULT_ERROR", description="Invalid refresh token")
    @ratelimit.sign_in
    def post(self, payload):
        """Trade a refresh token for a new pair (each refresh token works once)"""
        _user, tokens, fresh = sessions.rotate(db.session, payload["refresh_token"])
        db.session.commit()
        if not fresh:
            raise Unauthorized(
                "This refresh token was already used or revoked; every token of that "
                "sign-in is now revoked. Sign in again."
            )
        return tokens


@blp.route("/logout")
class Logout(MethodView):
    @blp.arguments(LogoutSchema)
    @blp.response(204)
    @blp.alt_response(401, response="DEFAULT_ERROR", description="Invalid refresh token")
    @ratelimit.sign_in
    def post(self, payload):
        """Sign out: revoke this sign-in's refresh tokens (or every sign-in's)"""
        sessions.revoke(db.session, payload["refresh_token"], payload["everywhere"])
        db.session.commit()
