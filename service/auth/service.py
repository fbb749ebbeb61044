"""Account use cases: register, authenticate, change the password."""

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.auth import names, passwords, sessions, throttle
from service.calendars import tokens as calendar_tokens
from service.errors import Forbidden, Unauthorized, conflict_from_integrity
from service.models import User


def register(
    *, db_session: Session, handle: str, email: str, password: str, display_name: str
) -> User:
    """Create an account; 409 if the handle or email is taken."""
    user = User(
        handle=handle,
        email=email.strip().lower(),
        display_name=display_name.strip(),
        password_hash=passwords.hash_password(password),
        token_version=0,
    )
    try:
        with db_session.begin_nested():  # a conflict undoes the name claimed before it
            user.id = names.next_user_id(db_session)
            names.claim(db_session, user_id=user.id, handle=user.handle, email=user.email)
            db_session.add(user)
            db_session.flush()
    except IntegrityError as exc:
        raise conflict_from_integrity(exc) from exc
    return user


def find_by_login(*, db_session: Session, login: str) -> User | None:
    """Find an account by handle or email, case-insensitively."""
    needle = login.strip().lower()
    return db_session.scalars(
        select(User).where(or_(func.lower(User.handle) == needle, func.lower(User.email) == needle))
    ).first()


def authenticate(*, db_session: Session, login: str, password: str) -> User:
    """Return the user for valid credentials; 401 if wrong, 429 after too many failures."""
    user = find_by_login(db_session=db_session, login=login)
    account_key = f"user:{user.id}" if user else f"login:{login.strip().lower()}"
    throttle.check(account_key)
    if user is None:
        passwords.dummy_verify(password)
    elif passwords.verify_password(user.password_hash, password):
        return user
    throttle.record_failure(account_key)
    raise Unauthorized("Wrong login or password.")


def change_password(
    *, db_session: Session, user: User, current_password: str, new_password: str
) -> None:
    """Set a new password and end every sign-in (refresh tokens revoked, access tokens
    refused, the calendar feed's URL revoked). A wrong current password is 403 and
    counts as a failed login of the account, so a stolen access token cannot be used to
    guess the password: after ``LOGIN_FAILURES_PER_WINDOW`` failures it is 429, like the
    login."""
    account_key = f"user:{user.id}"
    throttle.check(account_key)
    if not passwords.verify_password(user.password_hash, current_password):
        throttle.record_failure(account_key)
        raise Forbidden("The current password is wrong.")
    user.password_hash = passwords.hash_password(new_password)
    sessions.sign_out_everywhere(db_session, user.id)
    calendar_tokens.revoke(db_session=db_session, user_id=user.id)  # a feed URL too
