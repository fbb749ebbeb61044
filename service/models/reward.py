"""Rewards state: badges, visits per venue and city, mayorships, venue staff.

Everything here can be rebuilt from the check-in history (``flask recompute-rewards``).
"""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base


class UserBadge(Base):
    """A badge (at a level) a user holds; the primary key makes awarding exactly-once."""

    __tablename__ = "user_badges"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    badge: Mapped[str] = mapped_column(String(40), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    awarded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    checkin_id: Mapped[int | None] = mapped_column(BigInteger)


class UserVenue(Base):
    """The first eligible visit of a user to a venue (first-visit bonus, Explorer)."""

    __tablename__ = "user_venues"
    __table_args__ = (Index("ix_user_venues_venue", "venue_id"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), primary_key=True)
    first_checkin_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class UserCity(Base):
    """The first eligible check-in of a user in a city (Jetsetter)."""

    __tablename__ = "user_cities"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    city: Mapped[str] = mapped_column(String(160), primary_key=True)
    first_checkin_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class VenueVisitDay(Base):
    """A local day on which a user had an eligible check-in at a venue (mayorships)."""

    __tablename__ = "venue_visit_days"
    __table_args__ = (
        Index("ix_venue_visit_days_venue_day", "venue_id", "local_day"),
        Index("ix_venue_visit_days_user", "user_id"),
    )

    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    local_day: Mapped[date] = mapped_column(Date, primary_key=True)


class VenueMayor(Base):
    """The current mayor of a venue."""

    __tablename__ = "venue_mayors"
    __table_args__ = (
        Index("ix_venue_mayors_user", "user_id"),
        # the periodic job finds the mayorships due for a re-decision by this index
        Index("ix_venue_mayors_expires", "expires_at"),
    )

    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    days: Mapped[int] = mapped_column(Integer, nullable=False)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # venue-local midnight of the day the mayor's oldest counted day leaves the window
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class MayorshipChange(Base):
    """Every change of mayor, for history and the Mayor badge."""

    __tablename__ = "mayorship_changes"
    __table_args__ = (
        Index("ix_mayorship_changes_user", "user_id", "at"),
        Index("ix_mayorship_changes_venue", "venue_id", "at"),
        Index("ix_mayorship_changes_previous", "previous_user_id"),
    )

    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    previous_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), comment="null: nobody qualifies any more"
    )
    days: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    checkin_id: Mapped[int | None] = mapped_column(BigInteger)


class VenueStaff(Base):
    """An owner's invitation to be a venue's staff. Only staff who accepted are excluded
    from its mayorship and footfall, and only from ``accepted_at`` on: naming someone
    never changes past figures. Someone who leaves (``ended``) stays excluded from
    ``accepted_at`` on, so that leaving never changes past figures either."""

    __tablename__ = "venue_staff"
    __table_args__ = (
        Index("ix_venue_staff_user", "user_id"),
        UniqueConstraint("venue_id", "id"),
        CheckConstraint(
            "status IN ('invited', 'accepted', 'declined', 'ended') "
            "AND (status IN ('accepted', 'ended')) = (accepted_at IS NOT NULL)",
            name="status",
        ),
    )

    venue_id: Mapped[int] = mapped_column(
        ForeignKey("venues.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(BigInteger, Identity(), nullable=False)
    status: Mapped[str] = mapped_column(String(8), nullable=False, server_default="invited")
    invited_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
