"""Calendar feeds: each user's secret feed token (its hash), and the cancellations the
feed keeps showing after an event is deleted."""

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, created_at_column


class CalendarToken(Base):
    """The secret in my feed URL, stored only as its SHA-256 (one per user: creating a
    new one replaces it, which is how a leaked URL is rotated away)."""

    __tablename__ = "calendar_tokens"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # unique through calendar_token_hashes, which the feed URL is looked up by
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class CalendarCancellation(Base):
    """A deleted event as it stood, for the feed of someone who was going: shown there
    as STATUS:CANCELLED until it ends outside the feed's window (then purged).

    The event row itself is deleted as before (check-ins and meetings keep existing
    without it), so nothing else has to learn to skip cancelled events."""

    __tablename__ = "calendar_cancellations"
    __table_args__ = (Index("ix_calendar_cancellations_ends_at", "ends_at"),)

    # led by user_id, so it can be distributed by user (Citus) like the rest of a user's
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # gone: no FK
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    venue_name: Mapped[str] = mapped_column(String(200), nullable=False)
    venue_address: Mapped[str | None] = mapped_column(String(300))
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    cancelled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
