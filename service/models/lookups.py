"""Lookup tables: a global uniqueness kept as the primary key of a table keyed by the
unique value itself, and naming the row that holds it.

A user's rows are keyed by the user; a unique index on another column (a handle, a
token) cannot hold across users once those rows are spread over shards (Citus). Each
table here is keyed by the value alone, so the uniqueness is one primary key wherever the
rows live, and looking a value up reads one row. The writer of the owning row writes its
lookup row in the same transaction: the lookup row's conflict is what says "taken".
"""

from sqlalchemy import BigInteger, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base


class UserHandle(Base):
    """A handle (lower-cased) and the account that holds it."""

    __tablename__ = "user_handles"

    handle: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, nullable=False)


class UserEmail(Base):
    """An email (lower-cased) and the account that holds it."""

    __tablename__ = "user_emails"

    email: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, nullable=False)


class DeviceToken(Base):
    """A push token and the user whose device holds it (a token is one device)."""

    __tablename__ = "device_tokens"

    token: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, nullable=False)


class CalendarTokenHash(Base):
    """Whose calendar feed a token's SHA-256 opens: the feed URL's way in (the user's
    ``calendar_tokens`` row stays the truth; a row left here by a rotation opens nothing)."""

    __tablename__ = "calendar_token_hashes"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, nullable=False)


class VerifiedHandle(Base):
    """A handle on a network that someone has verified, and who: one owner each."""

    __tablename__ = "verified_handles"

    handle: Mapped[str] = mapped_column(String(320), primary_key=True)
    network: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
