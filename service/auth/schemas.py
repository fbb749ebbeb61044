"""Schemas for registration, login and tokens."""

from marshmallow import fields, validate

from service.common.schemas import StrictSchema, json_bool
from service.users.schemas import MeSchema

# "import" names a path of its own (/me/contacts/import), so no one may take it
HANDLE = validate.Regexp(
    r"^(?![Ii][Mm][Pp][Oo][Rr][Tt]$)[A-Za-z0-9_]{3,30}$",
    error="Handles are 3 to 30 letters, digits or underscores (and not import).",
)
NEW_PASSWORD = validate.Length(min=8, max=256)


class RegisterSchema(StrictSchema):
    """A new account."""

    handle = fields.String(required=True, validate=HANDLE)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True, validate=NEW_PASSWORD)
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=80))


class LoginSchema(StrictSchema):
    """A handle or email, and the password."""

    login = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=256)
    )


class RefreshSchema(StrictSchema):
    """The refresh token from login or registration."""

    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=4096))


class LogoutSchema(RefreshSchema):
    """The refresh token of the sign-in to end; ``everywhere`` ends all of them."""

    everywhere = json_bool(load_default=False)


class ChangePasswordSchema(StrictSchema):
    """The password in use, and the new one (the same rules as at registration)."""

    current_password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=256)
    )
    new_password = fields.String(required=True, load_only=True, validate=NEW_PASSWORD)


class TokensSchema(StrictSchema):
    """An access/refresh token pair."""

    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String(validate=validate.OneOf(["Bearer"]))


class RegisteredSchema(TokensSchema):
    """The new account and its tokens."""

    user = fields.Nested(MeSchema)
