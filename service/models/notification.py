"""Notifications (the inbox, which is also the outbox), push devices and deliveries.

Every table leads with the recipient's ``user_id`` so it can be distributed by user
(Citus) next to the check-ins that caused it.
"""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, created_at_column, one_of
from service.notifications.kinds import KINDS

PLATFORMS = ("ios", "android", "web")
PUSH_STATES = ("pending", "sent", "failed")


class Notification(Base):
    """One notification in a user's inbox; ``quiet`` ones arrived in quiet hours and are
    never pushed to a device."""

    __tablename__ = "notifications"
    __table_args__ = (
        # the 6-hour cooldown per (sender, receiver), and deleting a sender's account
        Index("ix_notifications_actor_user_created", "actor_id", "user_id", "created_at"),
        Index("ix_notifications_unread", "user_id", "id", postgresql_where=text("read_at IS NULL")),
        CheckConstraint(one_of("kind", KINDS), name="kind"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), comment="who caused it (nearby, meeting)"
    )
    message: Mapped[str] = mapped_column(Text, nullable=False)
    data: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
    quiet: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    created_at: Mapped[datetime] = created_at_column()
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NearbyQuota(Base):
    """How many nearby notifications a user got on one of their local days; the
    conditional upsert on this row keeps the daily cap exact when senders race."""

    __tablename__ = "nearby_quotas"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    local_day: Mapped[date] = mapped_column(Date, primary_key=True)
    sent: Mapped[int] = mapped_column(Integer, nullable=False)
    cap: Mapped[int] = mapped_column(
        Integer, nullable=False, comment="the user's daily cap when last counted"
    )


class Device(Base):
    """A phone or browser registered for push; a token belongs to one device (and user):
    ``device_tokens`` holds that uniqueness."""

    __tablename__ = "devices"
    __table_args__ = (CheckConstraint(one_of("platform", PLATFORMS), name="platform"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(8), nullable=False)
    token: Mapped[str] = mapped_column(String(512), nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class PushDelivery(Base):
    """A notification on its way to the push gateway: claimed, retried with backoff,
    then ``sent`` or, after the last attempt, ``failed`` with the last error."""

    __tablename__ = "push_deliveries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "notification_id"],
            ["notifications.user_id", "notifications.id"],
            ondelete="CASCADE",
            name="fk_push_deliveries_notification",
        ),
        Index(
            "ix_push_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("state = 'pending'"),
        ),
        CheckConstraint(one_of("state", PUSH_STATES), name="state"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    notification_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    state: Mapped[str] = mapped_column(String(8), nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    request_id: Mapped[str | None] = mapped_column(
        String(128), comment="the X-Request-Id of the request that queued it, for the logs"
    )


class NotificationStream(Base):
    """One open ``/me/notifications/stream``; a user keeps at most 5 (the oldest goes)."""

    __tablename__ = "notification_streams"
    __table_args__ = (Index("ix_notification_streams_user", "user_id", "opened_at"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    opened_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
