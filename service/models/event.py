"""Events (tweetups, meetups, conferences) at a venue, and RSVPs."""

from datetime import datetime

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import TSTZRANGE
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, GeogPoint, created_at_column, one_of

RSVP_STATUSES = ("going", "maybe", "not_going")


class Event(Base):
    """An event at a venue; ``location`` copies the venue's so one GiST index on
    (location, period) serves "near here, overlapping this window"."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        Index("ix_events_location_period", "location", "period", postgresql_using="gist"),
        Index("ix_events_venue", "venue_id", "starts_at"),
        Index("ix_events_organiser", "organiser_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), nullable=False)
    organiser_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(40)), nullable=False, server_default="{}")
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    period = mapped_column(
        TSTZRANGE, Computed("tstzrange(starts_at, ends_at, '[)')", persisted=True)
    )
    location = mapped_column(GeogPoint, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    # what calendars show of it (title, description, times) changed this many times, and
    # last when: an .ics entry's SEQUENCE and DTSTAMP
    sequence: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Rsvp(Base):
    """Someone's answer to an event."""

    __tablename__ = "event_rsvps"
    __table_args__ = (
        CheckConstraint(one_of("status", RSVP_STATUSES), name="status"),
        Index("ix_event_rsvps_user", "user_id"),
    )

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
