"""Events with a (location, period) GiST index, RSVPs; event ids on check-ins and meetings.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 13:09:24.401581
"""

import geoalchemy2  # noqa: F401
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_geospatial_table(
        "events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("venue_id", sa.BigInteger(), nullable=False),
        sa.Column("organiser_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", sa.ARRAY(sa.String(length=40)), server_default="{}", nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "period",
            postgresql.TSTZRANGE(),
            sa.Computed("tstzrange(starts_at, ends_at, '[)')", persisted=True),
            nullable=True,
        ),
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
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_events_starts_before_ends")),
        sa.ForeignKeyConstraint(
            ["organiser_id"],
            ["users.id"],
            name=op.f("fk_events_organiser_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name=op.f("fk_events_venue_id_venues")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(
        "ix_events_location_period",
        "events",
        ["location", "period"],
        unique=False,
        postgresql_using="gist",
    )
    op.create_index("ix_events_organiser", "events", ["organiser_id", "starts_at"], unique=False)
    op.create_index("ix_events_venue", "events", ["venue_id", "starts_at"], unique=False)
    op.create_table(
        "event_rsvps",
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('going', 'maybe', 'not_going')", name=op.f("ck_event_rsvps_status")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_rsvps_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_event_rsvps_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("event_id", "user_id", name=op.f("pk_event_rsvps")),
    )
    op.create_index("ix_event_rsvps_user", "event_rsvps", ["user_id"], unique=False)
    op.alter_column(
        "checkins",
        "event_id",
        existing_type=sa.BIGINT(),
        comment="set only when the check-in counted for the event",
        existing_nullable=True,
    )
    op.create_index(
        "ix_checkins_event",
        "checkins",
        ["event_id"],
        unique=False,
        postgresql_where=sa.text("event_id IS NOT NULL"),
    )
    op.create_foreign_key(
        op.f("fk_checkins_event_id_events"),
        "checkins",
        "events",
        ["event_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_meetings_event_id_events"),
        "meetings",
        "events",
        ["event_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_meetings_event_id_events"), "meetings", type_="foreignkey")
    op.drop_constraint(op.f("fk_checkins_event_id_events"), "checkins", type_="foreignkey")
    op.drop_index(
        "ix_checkins_event", table_name="checkins", postgresql_where=sa.text("event_id IS NOT NULL")
    )
    op.alter_column(
        "checkins",
        "event_id",
        existing_type=sa.BIGINT(),
        comment=None,
        existing_comment="set only when the check-in counted for the event",
        existing_nullable=True,
    )
    op.drop_index("ix_event_rsvps_user", table_name="event_rsvps")
    op.drop_table("event_rsvps")
    op.drop_index("ix_events_venue", table_name="events")
    op.drop_index("ix_events_organiser", table_name="events")
    op.drop_index("ix_events_location_period", table_name="events", postgresql_using="gist")
    op.drop_geospatial_table("events")
