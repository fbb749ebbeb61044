"""Online identities, follows and the per-pair relationship.

``follows`` records who follows whom and through what (the app or a network import);
``relationships`` keeps one row per direction of a pair with the derived ``mutual`` flag
and the in-person history, so "my contacts" is one index range on ``user_id``.
"""

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
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
# the database's own guard on what an app may load as a picture (no javascript:, data:)
AVATAR_URL_RULE = "avatar_url IS NULL OR avatar_url ~ '^https?://[^[:space:]]+$'"


class Identity(Base):
    """A user's claim of a handle on one online network.

    A claim counts for nothing until ``verified_at`` is set (proof in the public profile
    or OAuth); a handle is unique among verified identities only (``verified_handles``
    holds that), so nobody can block the real owner by claiming their handle first.
    """

    __tablename__ = "identities"
    __table_args__ = (
        Index("ix_identities_claims", "network", "handle"),
        CheckConstraint(AVATAR_URL_RULE, name="avatar_url_http"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    network: Mapped[str] = mapped_column(String(16), primary_key=True)
    handle: Mapped[str] = mapped_column(String(320), nullable=False)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    proof_code: Mapped[str | None] = mapped_column(String(32))
    # the network's public face, read when the handle was (re-)verified; shown to contacts
    profile_name: Mapped[str | None] = mapped_column(String(200))
    avatar_url: Mapped[str | None] = mapped_column(String(1000))
    profile_fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()

    @property
    def verified(self) -> bool:
        """True once the handle is proven to be this user's."""
        return self.verified_at is not None


class Follow(Base):
    """``follower`` follows ``followee``, through ``via``: ``app`` (made in the app) or a
    network, meaning it was adopted through the followee's identity on that network and
    is withdrawn when that identity is unlinked or lost."""

    __tablename__ = "follows"
    __table_args__ = (
        Index("ix_follows_followee", "followee_id", "follower_id"),
        Index("ix_follows_followee_via", "followee_id", "via"),
    )

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
    __table_args__ = (
        Index("ix_pending_follows_target", "network", "handle"),
        Index("ix_pending_follows_created", "created_at"),
    )

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


class OAuthState(Base):
    """One OAuth sign-in in flight: bound to the user who started it, used once.

    The provider's redirect fills ``handle`` (and the profile) and a one-time
    ``completion`` secret that only the browser which signed in receives; the claimant's
    own authenticated call then turns it into a verified identity.
    """

    __tablename__ = "oauth_states"
    __table_args__ = (
        Index("ix_oauth_states_user_id", "user_id"),
        Index("ix_oauth_states_expires", "expires_at"),
    )

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    network: Mapped[str] = mapped_column(String(16), nullable=False)
    code_verifier: Mapped[str] = mapped_column(String(128), nullable=False)
    redirect_uri: Mapped[str] = mapped_column(String(1000), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    handle: Mapped[str | None] = mapped_column(String(320))
    profile_name: Mapped[str | None] = mapped_column(String(200))
    avatar_url: Mapped[str | None] = mapped_column(String(1000))
    completion: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()
