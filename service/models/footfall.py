"""Footfall rollup: one row per visitor, venue and local hour, kept as check-ins arrive.

It holds only check-ins that count as footfall (not ``too_far``, ``too_fast`` or
``imprecise``), and keeps the user so staff can be left out at query time. Distinct
visitors of any range come from it without DISTINCT: a row is the visitor's first in a
range exactly when the visitor's previous visit (``prev_day``, or ``prev_cell_day`` for
the same weekday and hour) lies before the range.
"""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base


class VenueVisit(Base):
    """A visitor's check-ins at a venue within one local hour."""

    __tablename__ = "venue_visits"
    __table_args__ = (
        Index("ix_venue_visits_user_venue_hour", "user_id", "venue_id", "hour_start"),
        Index(
            "ix_venue_visits_user_venue_cell",
            "user_id",
            "venue_id",
            "weekday",
            "local_hour",
            "hour_start",
        ),
    )

    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), primary_key=True)
    hour_start: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), primary_key=True, comment="start of the local hour"
    )
    # no cascade: a deleted visit must be logged (``rollup.forget_visitor``) first
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    local_day: Mapped[date] = mapped_column(Date, nullable=False)
    weekday: Mapped[int] = mapped_column(SmallInteger, nullable=False, comment="Monday = 0")
    local_hour: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    checkins: Mapped[int] = mapped_column(Integer, nullable=False)
    first_of_day: Mapped[bool] = mapped_column(Boolean, nullable=False)
    prev_day: Mapped[date | None] = mapped_column(
        Date, comment="the visitor's previous day here (on the day's first row)"
    )
    prev_cell_day: Mapped[date | None] = mapped_column(
        Date, comment="the visitor's previous day here at this weekday and hour"
    )


class VenueHour(Base):
    """A venue's footfall in one local hour, summed over its visit rows (folded from the
    changes of ``venue_visits``, migrations 0011 and 0016): every figure that adds up
    across hours."""

    __tablename__ = "venue_hours"
    __table_args__ = (
        Index("ix_venue_hours_cell", "venue_id", "weekday", "local_hour", "hour_start"),
    )

    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), primary_key=True)
    hour_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    local_day: Mapped[date] = mapped_column(Date, nullable=False)
    weekday: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    local_hour: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    checkins: Mapped[int] = mapped_column(Integer, nullable=False)
    visits: Mapped[int] = mapped_column(Integer, nullable=False)
    day_firsts: Mapped[int] = mapped_column(Integer, nullable=False)
    week_firsts: Mapped[int] = mapped_column(Integer, nullable=False)
    new_visitors: Mapped[int] = mapped_column(Integer, nullable=False)
    cell_firsts: Mapped[int] = mapped_column(Integer, nullable=False)


class VenueVisitor(Base):
    """A visitor's first and last local day at a venue (folded from the changes)."""

    __tablename__ = "venue_visitors"

    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    first_day: Mapped[date] = mapped_column(Date, nullable=False)
    last_day: Mapped[date] = mapped_column(Date, nullable=False)


class VenueVisitorDay(Base):
    """How many of a venue's visitors have their first (last) day here on ``day``."""

    __tablename__ = "venue_visitor_days"

    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    firsts: Mapped[int] = mapped_column(Integer, nullable=False)
    lasts: Mapped[int] = mapped_column(Integer, nullable=False)


class VenueVisitChange(Base):
    """A change of ``venue_visits`` not yet folded into the summaries (migrations 0016,
    0023): the row as added (+1) or removed (-1), logged by its writer
    (``footfall/changes.py``); ``footfall_fold`` consumes them. Keyed by venue first (a
    stats read folds its own venue's; on Citus the table is distributed by venue)."""

    __tablename__ = "venue_visit_changes"
    __table_args__ = (
        PrimaryKeyConstraint("venue_id", "id"),
        Index("ix_venue_visit_changes_id", "id"),  # the worker folds the oldest first
        {"comment": "changes of venue_visits not yet folded into the footfall summaries"},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity())
    sign: Mapped[int] = mapped_column(SmallInteger, nullable=False, comment="+1 added, -1 removed")
    gone: Mapped[bool] = mapped_column(Boolean, nullable=False, comment="removed by a DELETE")
    venue_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    hour_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    user_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    local_day: Mapped[date] = mapped_column(Date, nullable=False)
    weekday: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    local_hour: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    checkins: Mapped[int] = mapped_column(Integer, nullable=False)
    first_of_day: Mapped[bool] = mapped_column(Boolean, nullable=False)
    prev_day: Mapped[date | None] = mapped_column(Date)
    prev_cell_day: Mapped[date | None] = mapped_column(Date)
