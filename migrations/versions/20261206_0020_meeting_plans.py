"""Meeting plans: meeting an online contact with a safety contact watching.

Plans (their author's, sharded like check-ins), and the notification kinds they send:
the safety contact asked to watch, the person met told that there is a safety contact,
the author told the watch was accepted, arrived, all good, cancelled, and the urgent
alert when nobody checked in or said all is well by the deadline.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 09:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

KINDS = "'nearby', 'meeting', 'badge', 'mayorship_gained', 'mayorship_lost', 'staff_invitation'"
PLAN_KINDS = (
    "'plan_watch', 'plan_safety', 'plan_watching', 'plan_arrived', 'plan_ok',"
    " 'plan_cancelled', 'plan_missed'"
)


def _user(name: str) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "plans",
        _user("user_id"),
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        _user("with_id"),
        _user("safety_id"),
        sa.Column("venue_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("check_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "accepted_at",
            sa.DateTime(timezone=True),
            comment="the safety contact agreed to watch",
        ),
        sa.Column("arrived_at", sa.DateTime(timezone=True)),
        sa.Column("arrived_checkin_id", sa.BigInteger()),
        sa.Column("ok_at", sa.DateTime(timezone=True)),
        sa.Column("alerts", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column(
            "due_at",
            sa.DateTime(timezone=True),
            comment="when the worker next acts: deadline, alert, deletion",
        ),
        sa.Column("outcome", sa.String(12)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "check_by > at AND check_by <= at + interval '12 hours'", name=op.f("ck_plans_window")
        ),
        sa.CheckConstraint(
            "with_id <> user_id AND safety_id <> user_id AND safety_id <> with_id",
            name=op.f("ck_plans_three_people"),
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('ok', 'cancelled', 'arrived', 'missed', 'unwatched')",
            name=op.f("ck_plans_outcome"),
        ),
        sa.CheckConstraint("(closed_at IS NULL) = (outcome IS NULL)", name=op.f("ck_plans_closed")),
        *[
            sa.ForeignKeyConstraint(
                [column], ["users.id"], name=op.f(f"fk_plans_{column}_users"), ondelete="CASCADE"
            )
            for column in ("user_id", "with_id", "safety_id")
        ],
        sa.ForeignKeyConstraint(["venue_id"], ["venues.id"], name=op.f("fk_plans_venue_id_venues")),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_plans")),
    )
    op.create_index(
        "ix_plans_due", "plans", ["due_at"], postgresql_where=sa.text("due_at IS NOT NULL")
    )
    op.create_index(
        "ix_plans_open", "plans", ["user_id", "at"], postgresql_where=sa.text("closed_at IS NULL")
    )
    op.create_index("ix_plans_safety", "plans", ["safety_id", "id"])
    op.create_index("ix_plans_with", "plans", ["with_id"])
    op.create_index("ix_plans_venue", "plans", ["venue_id"])
    _kinds(f"{KINDS}, {PLAN_KINDS}")


def downgrade() -> None:
    op.execute(f"DELETE FROM notifications WHERE kind IN ({PLAN_KINDS})")
    _kinds(KINDS)
    op.drop_table("plans")


def _kinds(kinds: str) -> None:
    op.drop_constraint(op.f("ck_notifications_kind"), "notifications", type_="check")
    op.create_check_constraint(op.f("ck_notifications_kind"), "notifications", f"kind IN ({kinds})")
