"""Event calendars: an event's calendar SEQUENCE, per-user feed tokens, cancellations.

``events.sequence`` counts the changes to what a calendar shows (title, description,
times) and ``events.updated_at`` dates the last (DTSTAMP); ``calendar_tokens`` holds the
SHA-256 of each user's secret feed URL token; ``calendar_cancellations`` keeps, for each
person who was going, a deleted event as it stood, so their feed says STATUS:CANCELLED.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def _user_id() -> sa.Column:
    return sa.Column("user_id", sa.BigInteger(), nullable=False)


def upgrade() -> None:
    op.add_column("events", sa.Column("sequence", sa.Integer(), server_default="0", nullable=False))
    op.add_column("events", sa.Column("updated_at", sa.DateTime(timezone=True)))
    op.create_table(
        "calendar_tokens",
        _user_id(),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_calendar_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_calendar_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_tokens_token_hash")),
    )
    op.create_table(
        "calendar_cancellations",
        _user_id(),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("venue_name", sa.String(200), nullable=False),
        sa.Column("venue_address", sa.String(300)),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_calendar_cancellations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "event_id", name=op.f("pk_calendar_cancellations")),
    )
    op.create_index("ix_calendar_cancellations_ends_at", "calendar_cancellations", ["ends_at"])


def downgrade() -> None:
    op.drop_table("calendar_cancellations")
    op.drop_table("calendar_tokens")
    op.drop_column("events", "updated_at")
    op.drop_column("events", "sequence")
