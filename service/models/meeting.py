"""In-person meetings."""

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Sequence, text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, created_at_column

# One id per meeting, shared by its two rows.
MEETING_ID = Sequence("meetings_id_seq")


class Meeting(Base):
    """An in-person meeting seen from one of its two people (two rows per meeting).

    ``meeting_venue_id`` (the venue of the earlier check-in) and ``local_day`` (in that
    venue's time zone) make a pair meet at most once per venue per day; ``venue_id`` is the
    viewer's own venue, the only one shown to them.
    """

    __tablename__ = "meetings"
    __table_args__ = (
        Index("ix_meetings_other", "other_id"),
        Index("ix_meetings_venue", "venue_id"),
        Index("ix_meetings_meeting_venue", "meeting_venue_id"),
        Index("ix_meetings_event", "event_id", postgresql_where=text("event_id IS NOT NULL")),
        Index(
            "uq_meetings_pair_venue_day",
            "user_id",
            "other_id",
            "meeting_venue_id",
            "local_day",
            unique=True,
        ),
        Index("ix_meetings_user_met", "user_id", "met_at"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(BigInteger, MEETING_ID, primary_key=True)
    other_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), nullable=False)
    meeting_venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), nullable=False)
    local_day: Mapped[date] = mapped_column(Date, nullable=False)
    met_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    checkin_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    other_checkin_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    first_time: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
