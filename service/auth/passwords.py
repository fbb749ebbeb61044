"""Password hashing with argon2id (argon2-cffi)."""

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher(type=Type.ID)


def configure(*, time_cost: int, memory_cost_kib: int) -> None:
    """Set the cost parameters (tests lower them to stay fast)."""
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost_kib, type=Type.ID)


def hash_password(password: str) -> str:
    """Return an argon2id hash string."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches; never raises for a bad hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def dummy_verify(password: str) -> None:
    """Spend the time of one verification, so unknown accounts are not faster to reject."""
    verify_password(_DUMMY_HASH, password)


_DUMMY_HASH = PasswordHasher(type=Type.ID).hash("not-a-real-password")
