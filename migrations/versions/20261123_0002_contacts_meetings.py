"""Identities, follows, relationships (mutual contacts) and meetings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:27:41.242220
"""

import geoalchemy2  # noqa: F401
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence("meetings_id_seq")))
    op.create_table(
        "follows",
        sa.Column("follower_id", sa.BigInteger(), nullable=False),
        sa.Column("followee_id", sa.BigInteger(), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["followee_id"],
            ["users.id"],
            name=op.f("fk_follows_followee_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["follower_id"],
            ["users.id"],
            name=op.f("fk_follows_follower_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("follower_id", "followee_id", "via", name=op.f("pk_follows")),
    )
    op.create_index("ix_follows_followee", "follows", ["followee_id", "follower_id"], unique=False)
    op.create_table(
        "identities",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("network", sa.String(length=16), nullable=False),
        sa.Column("handle", sa.String(length=320), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_identities_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "network", name=op.f("pk_identities")),
    )
    op.create_index(
        "uq_identities_network_handle", "identities", ["network", "handle"], unique=True
    )
    op.create_table(
        "pending_follows",
        sa.Column("follower_id", sa.BigInteger(), nullable=False),
        sa.Column("network", sa.String(length=16), nullable=False),
        sa.Column("handle", sa.String(length=320), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["follower_id"],
            ["users.id"],
            name=op.f("fk_pending_follows_follower_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "follower_id", "network", "handle", name=op.f("pk_pending_follows")
        ),
    )
    op.create_index(
        "ix_pending_follows_target", "pending_follows", ["network", "handle"], unique=False
    )
    op.create_table(
        "relationships",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("other_id", sa.BigInteger(), nullable=False),
        sa.Column("i_follow", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("they_follow", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "mutual",
            sa.Boolean(),
            sa.Computed("i_follow AND they_follow", persisted=True),
            nullable=False,
        ),
        sa.Column("met_in_person", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("first_met_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("meetings", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["other_id"],
            ["users.id"],
            name=op.f("fk_relationships_other_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_relationships_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "other_id", name=op.f("pk_relationships")),
    )
    op.create_index(
        "ix_relationships_mutual",
        "relationships",
        ["user_id", "other_id"],
        unique=False,
        postgresql_where=sa.text("mutual"),
    )
    op.create_table(
        "meetings",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("other_id", sa.BigInteger(), nullable=False),
        sa.Column("venue_id", sa.BigInteger(), nullable=False),
        sa.Column("meeting_venue_id", sa.BigInteger(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("met_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checkin_id", sa.BigInteger(), nullable=False),
        sa.Column("other_checkin_id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("first_time", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["meeting_venue_id"], ["venues.id"], name=op.f("fk_meetings_meeting_venue_id_venues")
        ),
        sa.ForeignKeyConstraint(
            ["other_id"], ["users.id"], name=op.f("fk_meetings_other_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_meetings_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name=op.f("fk_meetings_venue_id_venues")
        ),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_meetings")),
    )
    op.create_index("ix_meetings_user_met", "meetings", ["user_id", "met_at"], unique=False)
    op.create_index(
        "uq_meetings_pair_venue_day",
        "meetings",
        ["user_id", "other_id", "meeting_venue_id", "local_day"],
        unique=True,
    )
    op.create_index(
        "ix_checkins_user_visible",
        "checkins",
        ["user_id", "effective_at"],
        unique=False,
        postgresql_where=sa.text("NOT private"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_checkins_user_visible", table_name="checkins", postgresql_where=sa.text("NOT private")
    )
    op.drop_index("uq_meetings_pair_venue_day", table_name="meetings")
    op.drop_index("ix_meetings_user_met", table_name="meetings")
    op.drop_table("meetings")
    op.drop_index(
        "ix_relationships_mutual", table_name="relationships", postgresql_where=sa.text("mutual")
    )
    op.drop_table("relationships")
    op.drop_index("ix_pending_follows_target", table_name="pending_follows")
    op.drop_table("pending_follows")
    op.drop_index("uq_identities_network_handle", table_name="identities")
    op.drop_table("identities")
    op.drop_index("ix_follows_followee", table_name="follows")
    op.drop_table("follows")
    op.execute(sa.schema.DropSequence(sa.Sequence("meetings_id_seq")))
