"""Venue ownership: claims an admin decides, and the audit log of admin actions."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, created_at_column, one_of

CLAIM_STATES = ("pending", "approved", "rejected")


class VenueClaim(Base):
    """Someone's request to own a venue; an admin approves or rejects it."""

    __tablename__ = "venue_claims"
    __table_args__ = (
        # one open claim per person and venue
        Index(
            "uq_venue_claims_pending",
            "venue_id",
            "user_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_venue_claims_status_created", "status", "created_at"),
        Index("ix_venue_claims_user", "user_id"),
        Index("ix_venue_claims_decided_by", "decided_by"),
        CheckConstraint(one_of("status", CLAIM_STATES), name="status"),
    )

    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    status: Mapped[str] = mapped_column(String(8), nullable=False, server_default="pending")
    note: Mapped[str | None] = mapped_column(String(500), comment="the claimant's evidence")
    created_at: Mapped[datetime] = created_at_column()
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(String(500))


class AdminAction(Base):
    """One thing an admin (or an operator at the command line) did, kept for audit."""

    __tablename__ = "admin_actions"
    __table_args__ = (
        Index("ix_admin_actions_at", "at"),
        Index("ix_admin_actions_admin", "admin_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    admin_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), comment="null: the command line"
    )
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    target_type: Mapped[str] = mapped_column(String(20), nullable=False)
    target_id: Mapped[int | None] = mapped_column(BigInteger)
    details: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
