"""Registration, login and token refresh."""

from flask.views import MethodView

from service.auth import service
from service.auth.schemas import (
    LoginSchema,
    RefreshSchema,
    RegisteredSchema,
    RegisterSchema,
    TokensSchema,
)
from service.auth.tokens import issue_tokens, user_id_from_refresh
from service.common.blueprint import Blueprint
from service.database import db
from service.errors import Unauthorized
from service.models import User

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Accounts and tokens")


@blp.route("/register")
class Register(MethodView):
    @blp.arguments(RegisterSchema)
    @blp.response(201, RegisteredSchema)
    @blp.alt_response(409, response="DEFAULT_ERROR", description="Handle or email taken")
    def post(self, payload):
        """Create an account and sign in"""
        user = service.register(db_session=db.session, **payload)
        db.session.commit()
        return {"user": user, **issue_tokens(user)}


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokensSchema)
    @blp.alt_response(401, response="DEFAULT_ERROR", description="Wrong login or password")
    @blp.alt_response(429, response="DEFAULT_ERROR", description="Too many failed logins")
    def post(self, payload):
        """Sign in with a handle or email and a password"""
        user = service.authenticate(db_session=db.session, **payload)
        return issue_tokens(user)


@blp.route("/refresh")
class Refresh(MethodView):
    @blp.arguments(RefreshSchema)
    @blp.response(200, TokensSchema)
    @blp.alt_response(401, response="DEFAULT_ERROR", description="Invalid refresh token")
    def post(self, payload):
        """Trade a refresh token for a new token pair"""
        user = db.session.get(User, user_id_from_refresh(payload["refresh_token"]))
        if user is None:
            raise Unauthorized("Unknown user.")
        return issue_tokens(user)
