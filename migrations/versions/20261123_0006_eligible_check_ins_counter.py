"""Count eligible check-ins per user (badge rules read it instead of counting history).

Existing rows are filled from the history.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 14:12:02.730777
"""

import geoalchemy2  # noqa: F401
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column(
            "eligible_checkins",
            sa.Integer(),
            server_default="0",
            nullable=False,
            comment="kept with the rewards (recompute-rewards rebuilds it)",
        ),
    )
    op.execute(
        "UPDATE users u SET eligible_checkins = c.n FROM "
        "(SELECT user_id, count(*) AS n FROM checkins WHERE eligible GROUP BY user_id) c "
        "WHERE c.user_id = u.id"
    )


def downgrade() -> None:
    op.drop_column("users", "eligible_checkins")
