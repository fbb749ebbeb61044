"""Check-ins and the points ledger.

Both tables lead their primary key with ``user_id`` so they can be distributed by user
(Citus) and stay co-located with each other.
"""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, GeogPoint, created_at_column


class Checkin(Base):
    """A check-in, stored whatever its eligibility; ``reasons`` says why no reward."""

    __tablename__ = "checkins"
    __table_args__ = (
        Index("ix_checkins_id", "id"),
        Index("ix_checkins_user_effective", "user_id", "effective_at"),
        Index("ix_checkins_user_venue_effective", "user_id", "venue_id", "effective_at"),
        Index("ix_checkins_user_created", "user_id", "created_at"),
        Index("ix_checkins_venue_effective", "venue_id", "effective_at"),
        Index("ix_checkins_event", "event_id", postgresql_where=text("event_id IS NOT NULL")),
        # streaks and "first check-in of the day" (rewards)
        Index("ix_checkins_user_day", "user_id", "local_day", postgresql_where=text("eligible")),
        # "latest visible check-in" of each contact (nearby contacts, feed)
        Index(
            "ix_checkins_user_visible",
            "user_id",
            "effective_at",
            postgresql_where=text("NOT private"),
        ),
        CheckConstraint("accuracy_m IS NULL OR accuracy_m >= 0", name="accuracy"),
        CheckConstraint("char_length(shout) <= 140", name="shout_length"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), nullable=False)
    location = mapped_column(GeogPoint, nullable=False)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    shout: Mapped[str | None] = mapped_column(String(140))
    private: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    shared: Mapped[bool] = mapped_column(
        Boolean,
        nullable=False,
        server_default="true",
        comment="contacts could see it when made: not private and sharing not off",
    )
    client_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    effective_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    local_day: Mapped[date] = mapped_column(
        Date, nullable=False, comment="effective_at's date at the venue"
    )
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"),
        comment="set only when the check-in counted for the event",
    )
    eligible: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reasons: Mapped[list] = mapped_column(JSONB, nullable=False, server_default="[]")
    points: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    created_at: Mapped[datetime] = created_at_column()


class PointsEntry(Base):
    """One line of the points ledger: who earned how many, why, for which check-in."""

    __tablename__ = "points_ledger"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "checkin_id"],
            ["checkins.user_id", "checkins.id"],
            ondelete="CASCADE",
            name="fk_points_ledger_checkin",
        ),
        Index("ix_points_ledger_user_created", "user_id", "created_at"),
        # rolling-week leaderboards: an index-only scan of the last 7 days
        Index("ix_points_ledger_created", "created_at", postgresql_include=["user_id", "points"]),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    checkin_id: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32), nullable=False)
    points: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
