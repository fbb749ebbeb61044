"""Verified identities: a claim counts for nothing until it is proven.

Every identity that exists becomes an unverified claim; a handle is unique only among
verified identities (an unverified claim must not stop the real owner from verifying).
Follows made through a network (``follows.via``) are follows adopted through the
followee's identity on that network; those whose identity was unlinked under the old
rules no longer have anything behind them and are withdrawn here. OAuth sign-ins keep
their ``state`` server-side for ten minutes.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 03:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("identities", sa.Column("verified_at", sa.DateTime(timezone=True)))
    op.add_column("identities", sa.Column("proof_code", sa.String(32)))
    op.add_column("identities", sa.Column("profile_name", sa.String(200)))
    op.add_column("identities", sa.Column("avatar_url", sa.String(1000)))
    op.execute(
        "UPDATE identities SET proof_code = 'irl-' || substr(md5(random()::text "
        "|| clock_timestamp()::text || user_id::text || network), 1, 16)"
    )
    op.drop_index("uq_identities_network_handle", table_name="identities")
    op.create_index(
        "uq_identities_network_handle",
        "identities",
        ["network", "handle"],
        unique=True,
        postgresql_where=sa.text("verified_at IS NOT NULL"),
    )
    op.create_index("ix_identities_claims", "identities", ["network", "handle"])

    # Follows through a network whose followee no longer holds an identity there; then
    # the flags, which derive from follows, where no follow is left behind them.
    op.execute(
        """
        DELETE FROM follows f
        WHERE f.via <> 'app' AND NOT EXISTS (
            SELECT 1 FROM identities i WHERE i.user_id = f.followee_id AND i.network = f.via)
        """
    )
    op.execute(
        """
        UPDATE relationships r SET i_follow = false
        WHERE r.i_follow AND NOT EXISTS (
            SELECT 1 FROM follows f WHERE f.follower_id = r.user_id AND f.followee_id = r.other_id)
        """
    )
    op.execute(
        """
        UPDATE relationships r SET they_follow = false
        WHERE r.they_follow AND NOT EXISTS (
            SELECT 1 FROM follows f WHERE f.follower_id = r.other_id AND f.followee_id = r.user_id)
        """
    )
    op.create_index("ix_follows_followee_via", "follows", ["followee_id", "via"])
    op.create_index("ix_pending_follows_created", "pending_follows", ["created_at"])

    op.create_table(
        "oauth_states",
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("network", sa.String(16), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("redirect_uri", sa.String(1000), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handle", sa.String(320)),
        sa.Column("profile_name", sa.String(200)),
        sa.Column("avatar_url", sa.String(1000)),
        sa.Column("completion", sa.String(64)),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_oauth_states_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_oauth_states")),
    )
    op.create_index("ix_oauth_states_user_id", "oauth_states", ["user_id"])
    op.create_index("ix_oauth_states_expires", "oauth_states", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_oauth_states_expires", table_name="oauth_states")
    op.drop_index("ix_oauth_states_user_id", table_name="oauth_states")
    op.drop_table("oauth_states")
    op.drop_index("ix_pending_follows_created", table_name="pending_follows")
    op.drop_index("ix_follows_followee_via", table_name="follows")
    op.drop_index("ix_identities_claims", table_name="identities")
    op.drop_index("uq_identities_network_handle", table_name="identities")
    op.execute(
        "DELETE FROM identities i USING identities j WHERE i.network = j.network "
        "AND i.handle = j.handle AND i.verified_at IS NULL AND i.user_id <> j.user_id "
        "AND (j.verified_at IS NOT NULL OR j.user_id < i.user_id)"
    )
    op.create_index(
        "uq_identities_network_handle", "identities", ["network", "handle"], unique=True
    )
    for column in ("avatar_url", "profile_name", "proof_code", "verified_at"):
        op.drop_column("identities", column)
