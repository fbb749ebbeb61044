"""Rules over time: a mayorship ages out.

- ``venue_mayors.expires_at``: the start (venue local midnight) of the day on which the
  mayor's oldest counted day leaves the 60-day window. Until then nobody can overtake the
  mayor without a new visit day (which re-decides at once); from then the mayorship is
  re-decided by the periodic job (``expire-mayorships``, also run by the push worker),
  and read as of now by ``GET /venues/{id}/mayor`` meanwhile. Existing mayorships are
  marked due now, so the first run re-decides each of them once.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("venue_mayors", sa.Column("expires_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE venue_mayors SET expires_at = now()")
    op.alter_column("venue_mayors", "expires_at", nullable=False)
    op.create_index("ix_venue_mayors_expires", "venue_mayors", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_venue_mayors_expires", table_name="venue_mayors")
    op.drop_column("venue_mayors", "expires_at")
