"""Users, venues, check-ins, points ledger and idempotency keys; enables PostGIS.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 12:13:14.622404
"""

import geoalchemy2  # noqa: F401
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("handle", sa.String(length=30), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("is_admin", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("location_sharing", sa.String(length=12), server_default="exact", nullable=False),
        sa.Column("nearby_radius_m", sa.Integer(), server_default="1000", nullable=False),
        sa.Column("notify_nearby", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("points", sa.Integer(), server_default="0", nullable=False),
        sa.Column("checkin_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "location_sharing IN ('off', 'approximate', 'exact')",
            name=op.f("ck_users_location_sharing"),
        ),
        sa.CheckConstraint(
            "nearby_radius_m BETWEEN 100 AND 5000", name=op.f("ck_users_nearby_radius")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index("uq_users_email", "users", [sa.text("lower(email)")], unique=True)
    op.create_index("uq_users_handle", "users", [sa.text("lower(handle)")], unique=True)
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_idempotency_keys_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index("ix_idempotency_keys_created", "idempotency_keys", ["created_at"], unique=False)
    op.create_geospatial_table(
        "venues",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column(
            "location",
            Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("radius_m", sa.Integer(), server_default="100", nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("owner_id", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.String(length=32), server_default="user", nullable=False),
        sa.Column("source_ref", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("radius_m BETWEEN 25 AND 500", name=op.f("ck_venues_radius")),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_venues_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_venues_owner_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_venues")),
    )
    op.create_geospatial_index(
        "ix_venues_location",
        "venues",
        ["location"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        "uq_venues_source_ref",
        "venues",
        ["source", "source_ref"],
        unique=True,
        postgresql_where=sa.text("source_ref IS NOT NULL"),
    )
    op.create_geospatial_table(
        "checkins",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("venue_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "location",
            Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("shout", sa.String(length=140), nullable=True),
        sa.Column("private", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("client_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column(
            "reasons", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False
        ),
        sa.Column("points", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "accuracy_m IS NULL OR accuracy_m >= 0", name=op.f("ck_checkins_accuracy")
        ),
        sa.CheckConstraint("char_length(shout) <= 140", name=op.f("ck_checkins_shout_length")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_checkins_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name=op.f("fk_checkins_venue_id_venues")
        ),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_checkins")),
    )
    op.create_index("ix_checkins_id", "checkins", ["id"], unique=False)
    op.create_index("ix_checkins_user_created", "checkins", ["user_id", "created_at"], unique=False)
    op.create_index(
        "ix_checkins_user_effective", "checkins", ["user_id", "effective_at"], unique=False
    )
    op.create_index(
        "ix_checkins_user_venue_effective",
        "checkins",
        ["user_id", "venue_id", "effective_at"],
        unique=False,
    )
    op.create_index(
        "ix_checkins_venue_effective", "checkins", ["venue_id", "effective_at"], unique=False
    )
    op.create_table(
        "points_ledger",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("checkin_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "checkin_id"],
            ["checkins.user_id", "checkins.id"],
            name="fk_points_ledger_checkin",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_points_ledger_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_points_ledger")),
    )
    op.create_index(
        "ix_points_ledger_user_created", "points_ledger", ["user_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_points_ledger_user_created", table_name="points_ledger")
    op.drop_table("points_ledger")
    op.drop_index("ix_checkins_venue_effective", table_name="checkins")
    op.drop_index("ix_checkins_user_venue_effective", table_name="checkins")
    op.drop_index("ix_checkins_user_effective", table_name="checkins")
    op.drop_index("ix_checkins_user_created", table_name="checkins")
    op.drop_index("ix_checkins_id", table_name="checkins")
    op.drop_geospatial_table("checkins")
    op.drop_index(
        "uq_venues_source_ref",
        table_name="venues",
        postgresql_where=sa.text("source_ref IS NOT NULL"),
    )
    op.drop_geospatial_index(
        "ix_venues_location",
        table_name="venues",
        postgresql_using="gist",
        column_name="location",
    )
    op.drop_geospatial_table("venues")
    op.drop_index("ix_idempotency_keys_created", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index("uq_users_handle", table_name="users")
    op.drop_index("uq_users_email", table_name="users")
    op.drop_table("users")
