"""Index eligible check-ins by user and local day (streaks, first check-in of a day).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 13:43:38.812780
"""

import geoalchemy2  # noqa: F401
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_checkins_user_day",
        "checkins",
        ["user_id", "local_day"],
        unique=False,
        postgresql_where=sa.text("eligible"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_checkins_user_day", table_name="checkins", postgresql_where=sa.text("eligible")
    )
