"""Account use cases: register, authenticate."""

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.auth import passwords, throttle
from service.errors import Unauthorized, conflict_from_integrity
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
    )
    db_session.add(user)
    try:
        with db_session.begin_nested():
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
