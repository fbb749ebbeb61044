"""Rewards: badges, visits per venue and city, mayorships, staff; local day and event
on check-ins; leaderboard indexes.

After upgrading a database with history, run ``flask --app wsgi recompute-rewards``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:56:53.673163
"""

import geoalchemy2  # noqa: F401
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_badges",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("badge", sa.String(length=40), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("awarded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checkin_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_badges_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "badge", "level", name=op.f("pk_user_badges")),
    )
    op.create_table(
        "user_cities",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("city", sa.String(length=160), nullable=False),
        sa.Column("first_checkin_id", sa.BigInteger(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_cities_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "city", name=op.f("pk_user_cities")),
    )
    op.create_table(
        "mayorship_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("venue_id", sa.BigInteger(), nullable=False),
        sa.Column("previous_user_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "user_id",
            sa.BigInteger(),
            nullable=True,
            comment="null: nobody qualifies any more",
        ),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checkin_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["previous_user_id"],
            ["users.id"],
            name=op.f("fk_mayorship_changes_previous_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_mayorship_changes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name=op.f("fk_mayorship_changes_venue_id_venues")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mayorship_changes")),
    )
    op.create_index(
        "ix_mayorship_changes_user", "mayorship_changes", ["user_id", "at"], unique=False
    )
    op.create_index(
        "ix_mayorship_changes_venue", "mayorship_changes", ["venue_id", "at"], unique=False
    )
    op.create_table(
        "user_venues",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("venue_id", sa.BigInteger(), nullable=False),
        sa.Column("first_checkin_id", sa.BigInteger(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_venues_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name=op.f("fk_user_venues_venue_id_venues")
        ),
        sa.PrimaryKeyConstraint("user_id", "venue_id", name=op.f("pk_user_venues")),
    )
    op.create_table(
        "venue_mayors",
        sa.Column("venue_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_venue_mayors_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name=op.f("fk_venue_mayors_venue_id_venues")
        ),
        sa.PrimaryKeyConstraint("venue_id", name=op.f("pk_venue_mayors")),
    )
    op.create_table(
        "venue_staff",
        sa.Column("venue_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_venue_staff_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"],
            ["venues.id"],
            name=op.f("fk_venue_staff_venue_id_venues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("venue_id", "user_id", name=op.f("pk_venue_staff")),
    )
    op.create_table(
        "venue_visit_days",
        sa.Column("venue_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_venue_visit_days_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name=op.f("fk_venue_visit_days_venue_id_venues")
        ),
        sa.PrimaryKeyConstraint(
            "venue_id", "user_id", "local_day", name=op.f("pk_venue_visit_days")
        ),
    )
    op.create_index(
        "ix_venue_visit_days_venue_day", "venue_visit_days", ["venue_id", "local_day"], unique=False
    )
    op.add_column(
        "checkins",
        sa.Column(
            "local_day", sa.Date(), nullable=True, comment="effective_at's date at the venue"
        ),
    )
    op.execute(
        "UPDATE checkins c SET local_day = (c.effective_at AT TIME ZONE v.timezone)::date "
        "FROM venues v WHERE v.id = c.venue_id"
    )
    op.alter_column("checkins", "local_day", nullable=False)
    op.add_column("checkins", sa.Column("event_id", sa.BigInteger(), nullable=True))
    op.create_index(
        "ix_points_ledger_created",
        "points_ledger",
        ["created_at"],
        unique=False,
        postgresql_include=["user_id", "points"],
    )
    op.create_index("ix_users_points", "users", [sa.text("points DESC"), "id"], unique=False)
    op.add_column("venues", sa.Column("city", sa.String(length=160), nullable=True))


def downgrade() -> None:
    op.drop_column("venues", "city")
    op.drop_index("ix_users_points", table_name="users")
    op.drop_index(
        "ix_points_ledger_created",
        table_name="points_ledger",
        postgresql_include=["user_id", "points"],
    )
    op.drop_column("checkins", "event_id")
    op.drop_column("checkins", "local_day")
    op.drop_index("ix_venue_visit_days_venue_day", table_name="venue_visit_days")
    op.drop_table("venue_visit_days")
    op.drop_table("venue_staff")
    op.drop_table("venue_mayors")
    op.drop_table("user_venues")
    op.drop_index("ix_mayorship_changes_venue", table_name="mayorship_changes")
    op.drop_index("ix_mayorship_changes_user", table_name="mayorship_changes")
    op.drop_table("mayorship_changes")
    op.drop_table("user_cities")
    op.drop_table("user_badges")
