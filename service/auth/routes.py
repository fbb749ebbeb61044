"""Registration, login, token refresh, signing out, and changing the password."""

from flask.views import MethodView

from service import ratelimit
from service.auth import service, sessions
from service.auth.schemas import (
    ChangePasswordSchema,
    LoginSchema,
    LogoutSchema,
    RefreshSchema,
    RegisteredSchema,
    RegisterSchema,
    TokensSchema,
)
from service.auth.tokens import current_user
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.database import db
from service.errors import Unauthorized

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Accounts and tokens")


@blp.route("/auth/register")
class Register(MethodView):
    @blp.arguments(RegisterSchema)
    @blp.response(201, RegisteredSchema)
    @blp.alt_response(409, response="DEFAULT_ERROR", description="Handle or email taken")
    @ratelimit.registration
    def post(self, payload):
        """Create an account and sign in"""
        user = service.register(db_session=db.session, **payload)
        tokens = sessions.issue(db.session, user)
        db.session.commit()
        return {"user": user, **tokens}


@blp.route("/auth/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokensSchema)
    @blp.alt_response(401, response="DEFAULT_ERROR", description="Wrong login or password")
    @blp.alt_response(429, response="DEFAULT_ERROR", description="Too many failed logins")
    @ratelimit.login
    def post(self, payload):
        """Sign in with a handle or email and a password"""
        user = service.authenticate(db_session=db.session, **payload)
        tokens = sessions.issue(db.session, user)
        db.session.commit()
        return tokens


@blp.route("/auth/refresh")
class Refresh(MethodView):
    @blp.arguments(RefreshSchema)
    @blp.response(200, TokensSchema)
    @blp.alt_response(401, response="DEFAULT_ERROR", description="Invalid refresh token")
    @ratelimit.refresh
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


@blp.route("/auth/logout")
class Logout(MethodView):
    @blp.arguments(LogoutSchema)
    @blp.response(204)
    @blp.alt_response(401, response="DEFAULT_ERROR", description="Invalid refresh token")
    @ratelimit.refresh
    def post(self, payload):
        """Sign out: revoke this sign-in's refresh tokens (or, with ``everywhere``, every
        sign-in's, and refuse every access token issued before)"""
        sessions.revoke(db.session, payload["refresh_token"], payload["everywhere"])
        db.session.commit()


@blp.route("/me/password")
class ChangePassword(MethodView):
    @authenticated(blp)
    @blp.arguments(ChangePasswordSchema)
    @blp.response(200, TokensSchema)
    @blp.alt_response(403, response="DEFAULT_ERROR", description="Wrong current password")
    @blp.alt_response(429, response="DEFAULT_ERROR", description="Too many failed logins")
    def post(self, payload):
        """Change my password and sign out every session: every refresh token is revoked
        and every access token issued before is refused; answers a new pair for this
        device"""
        user = current_user()
        service.change_password(db_session=db.session, user=user, **payload)
        tokens = sessions.issue(db.session, user)
        db.session.commit()
        return tokens
