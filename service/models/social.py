"""Online identities, follows and the per-pair relationship.

``follows`` records who follows whom and through what (the app or a network import);
``relationships`` keeps one row per direction of a pair with the derived ``mutual`` flag
and the in-person history, so "my contacts" is one index range on ``user_id``.
"""

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, created_at_column

NETWORKS = ("twitter", "mastodon", "bluesky", "github", "linkedin", "instagram")


class Identity(Base):
    """A user's handle on one online network; a handle belongs to one user."""

    __tablename__ = "identities"
    __table_args__ = (Index("uq_identities_network_handle", "network", "handle", unique=True),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    network: Mapped[str] = mapped_column(String(16), primary_key=True)
    handle: Mapped[str] = mapped_column(String(320), nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class Follow(Base):
    """``follower`` follows ``followee``, through ``via`` (``app`` or a network)."""

    __tablename__ = "follows"
    __table_args__ = (Index("ix_follows_followee", "followee_id", "follower_id"),)

    follower_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    followee_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    via: Mapped[str] = mapped_column(String(16), primary_key=True)
    created_at: Mapped[datetime] = created_at_column()


class PendingFollow(Base):
    """An imported handle that matched nobody yet; it becomes a follow when its owner
    links that identity."""

    __tablename__ = "pending_follows"
    __table_args__ = (Index("ix_pending_follows_target", "network", "handle"),)

    follower_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    network: Mapped[str] = mapped_column(String(16), primary_key=True)
    handle: Mapped[str] = mapped_column(String(320), primary_key=True)
    created_at: Mapped[datetime] = created_at_column()


class Relationship(Base):
    """One direction of a pair: do I follow them, do they follow me, have we met."""

    __tablename__ = "relationships"
    __table_args__ = (
        Index("ix_relationships_other", "other_id"),
        Index("ix_relationships_mutual", "user_id", "other_id", postgresql_where=text("mutual")),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    other_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    i_follow: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    they_follow: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    mutual: Mapped[bool] = mapped_column(
        Boolean, Computed("i_follow AND they_follow", persisted=True)
    )
    met_in_person: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    first_met_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    meetings: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    created_at: Mapped[datetime] = created_at_column()
