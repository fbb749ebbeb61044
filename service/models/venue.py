"""Places people check in at."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, GeogPoint, created_at_column


class Venue(Base):
    """A venue: a point with a check-in radius and its IANA time zone.

    Deleted venues keep their row (``deleted_at``) so check-in history stays whole.
    """

    __tablename__ = "venues"
    __table_args__ = (
        # foreign keys to users: deleting an account must not scan venues
        Index("ix_venues_created_by", "created_by"),
        Index("ix_venues_owner", "owner_id"),
        # Not partial, so the table can be CLUSTERed on it; deleted venues are rare.
        Index("ix_venues_location", "location", postgresql_using="gist"),
        Index(
            "uq_venues_source_ref",
            "source",
            "source_ref",
            unique=True,
            postgresql_where=text("source_ref IS NOT NULL"),
        ),
        CheckConstraint("radius_m BETWEEN 25 AND 500", name="radius"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    category: Mapped[str] = mapped_column(String(64), nullable=False)
    address: Mapped[str | None] = mapped_column(String(300))
    location = mapped_column(GeogPoint, nullable=False)
    radius_m: Mapped[int] = mapped_column(Integer, nullable=False, server_default="100")
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    city: Mapped[str | None] = mapped_column(String(160))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(32), nullable=False, server_default="user")
    source_ref: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
