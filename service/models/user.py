"""People using the app."""

from datetime import datetime, time

from geoalchemy2 import Geography
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    Time,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, created_at_column, one_of

LOCATION_SHARING = ("off", "approximate", "exact")


class User(Base):
    """An account; handle and email are unique case-insensitively (``user_handles`` and
    ``user_emails`` hold that; the two indexes below go when the schema is distributed)."""

    __tablename__ = "users"
    __table_args__ = (
        Index("uq_users_handle", text("lower(handle)"), unique=True),
        Index("uq_users_email", text("lower(email)"), unique=True),
        Index("ix_users_points", text("points DESC"), "id"),
        CheckConstraint(one_of("location_sharing", LOCATION_SHARING), name="location_sharing"),
        CheckConstraint("nearby_radius_m BETWEEN 100 AND 5000", name="nearby_radius"),
        CheckConstraint("nearby_daily_cap BETWEEN 0 AND 100", name="nearby_daily_cap"),
        CheckConstraint(
            "(quiet_hours_start IS NULL) = (quiet_hours_end IS NULL)", name="quiet_hours"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    handle: Mapped[str] = mapped_column(String(30), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    display_name: Mapped[str] = mapped_column(String(80), nullable=False)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    is_admin: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    location_sharing: Mapped[str] = mapped_column(
        String(12), nullable=False, server_default="exact"
    )
    nearby_radius_m: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1000")
    notify_nearby: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    nearby_daily_cap: Mapped[int] = mapped_column(Integer, nullable=False, server_default="10")
    quiet_hours_start: Mapped[time | None] = mapped_column(Time)
    quiet_hours_end: Mapped[time | None] = mapped_column(Time)
    timezone: Mapped[str | None] = mapped_column(
        String(64), comment="chosen IANA zone; null: the zone of the latest check-in"
    )
    last_timezone: Mapped[str | None] = mapped_column(
        String(64), comment="zone of the venue of the latest check-in"
    )
    points: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    checkin_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    eligible_checkins: Mapped[int] = mapped_column(
        Integer,
        nullable=False,
        server_default="0",
        comment="kept with the rewards (recompute-rewards rebuilds it)",
    )
    venues_visited: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default="0", comment="rows of user_venues, kept"
    )
    cities_visited: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default="0", comment="rows of user_cities, kept"
    )
    # The latest check-in contacts may see (shared, greatest effective time then id), kept
    # by each check-in (migration 0018), so "where is this contact" reads one row: the
    # nearby fan-out and nearby contacts, for 50 contacts, instead of 50 index probes into
    # check-ins and venues. A venue's move carries ``seen_location`` along.
    seen_checkin_id: Mapped[int | None] = mapped_column(BigInteger)
    seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    seen_venue_id: Mapped[int | None] = mapped_column(BigInteger)
    seen_location = mapped_column(  # a type of its own: GeoAlchemy2 copies nullability onto
        Geography(geometry_type="POINT", srid=4326, spatial_index=False, nullable=True)
    )
    token_version: Mapped[int] = mapped_column(
        Integer,
        nullable=False,
        server_default="0",
        comment="access tokens carry it; bumped by a password change or signing out everywhere",
    )
    created_at: Mapped[datetime] = created_at_column()
