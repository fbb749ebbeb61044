"""Meeting plans: meeting an online contact for the first time, with a safety contact.

A plan is its author's (``user_id``, the shard key, like check-ins) and is seen only by
them and by the safety contact they chose. ``due_at`` is when the worker must next act on
it: the check-by deadline, the second alert 30 minutes later, and once closed the day it
is deleted (7 days on); one partial index serves all three.
"""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    SmallInteger,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, created_at_column, one_of

OUTCOMES = ("ok", "cancelled", "arrived", "missed", "unwatched")


class Plan(Base):
    """I meet ``with_id`` at a venue at ``at``; ``safety_id`` watches until ``check_by``."""

    __tablename__ = "plans"
    __table_args__ = (
        Index("ix_plans_due", "due_at", postgresql_where=text("due_at IS NOT NULL")),
        Index("ix_plans_open", "user_id", "at", postgresql_where=text("closed_at IS NULL")),
        Index("ix_plans_safety", "safety_id", "id"),
        Index("ix_plans_with", "with_id"),
        Index("ix_plans_venue", "venue_id"),
        CheckConstraint("check_by > at AND check_by <= at + interval '12 hours'", name="window"),
        CheckConstraint(
            "with_id <> user_id AND safety_id <> user_id AND safety_id <> with_id",
            name="three_people",
        ),
        CheckConstraint(f"outcome IS NULL OR {one_of('outcome', OUTCOMES)}", name="outcome"),
        CheckConstraint("(closed_at IS NULL) = (outcome IS NULL)", name="closed"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    with_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    safety_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    check_by: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="the safety contact agreed to watch"
    )
    arrived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    arrived_checkin_id: Mapped[int | None] = mapped_column(BigInteger)
    ok_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    alerts: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="0")
    due_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="when the worker next acts: deadline, alert, deletion"
    )
    outcome: Mapped[str | None] = mapped_column(String(12))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
