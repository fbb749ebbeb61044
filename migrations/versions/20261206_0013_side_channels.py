"""Location side channels: staff by consent, token versions, bounded streams.

- ``venue_staff`` becomes an invitation with an id and a status; only staff who accepted
  are excluded, and only from ``accepted_at`` — for good, even once they leave
  (``ended``), so that leaving can never reveal their past visits. Existing listings
  were made without the person's consent, so they become open invitations.
- ``users.token_version``: access tokens carry it; a password change or "sign out
  everywhere" bumps it and every older token is refused.
- ``checkins.shared``: whether contacts could see the check-in when it was made (not
  private, sharing not ``off``); only those earn mayorship days. Older rows only knew
  ``private``.
- ``notification_streams``: the open SSE streams of each user (at most 5; opening a
  sixth closes the oldest, whichever process holds it).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 03:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "venue_staff",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
    )
    op.add_column(
        "venue_staff",
        sa.Column("status", sa.String(8), nullable=False, server_default="invited"),
    )
    op.add_column(
        "venue_staff",
        sa.Column(
            "invited_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.add_column("venue_staff", sa.Column("accepted_at", sa.DateTime(timezone=True)))
    op.add_column("venue_staff", sa.Column("decided_at", sa.DateTime(timezone=True)))
    op.create_unique_constraint(op.f("uq_venue_staff_id"), "venue_staff", ["id"])
    op.create_check_constraint(
        op.f("ck_venue_staff_status"),
        "venue_staff",
        "status IN ('invited', 'accepted', 'declined', 'ended') "
        "AND (status IN ('accepted', 'ended')) = (accepted_at IS NOT NULL)",
    )

    op.drop_constraint(op.f("ck_notifications_kind"), "notifications", type_="check")
    op.create_check_constraint(
        op.f("ck_notifications_kind"),
        "notifications",
        "kind IN ('nearby', 'meeting', 'badge', 'mayorship_gained', 'mayorship_lost', "
        "'staff_invitation')",
    )

    op.add_column(
        "users",
        sa.Column(
            "token_version",
            sa.Integer(),
            nullable=False,
            server_default="0",
            comment="access tokens carry it; bumped by a password change or signing out everywhere",
        ),
    )

    op.add_column(
        "checkins",
        sa.Column(
            "shared",
            sa.Boolean(),
            nullable=False,
            server_default="true",
            comment="contacts could see it when made: not private and sharing not off",
        ),
    )
    op.execute("UPDATE checkins SET shared = false WHERE private")

    op.create_table(
        "notification_streams",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "opened_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_streams_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_streams")),
    )
    op.create_index(
        "ix_notification_streams_user", "notification_streams", ["user_id", "opened_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_notification_streams_user", table_name="notification_streams")
    op.drop_table("notification_streams")
    op.drop_column("checkins", "shared")
    op.execute("DELETE FROM notifications WHERE kind = 'staff_invitation'")
    op.drop_constraint(op.f("ck_notifications_kind"), "notifications", type_="check")
    op.create_check_constraint(
        op.f("ck_notifications_kind"),
        "notifications",
        "kind IN ('nearby', 'meeting', 'badge', 'mayorship_gained', 'mayorship_lost')",
    )
    op.drop_column("users", "token_version")
    op.drop_constraint(op.f("ck_venue_staff_status"), "venue_staff", type_="check")
    op.drop_constraint(op.f("uq_venue_staff_id"), "venue_staff", type_="unique")
    for column in ("decided_at", "accepted_at", "invited_at", "status", "id"):
        op.drop_column("venue_staff", column)
