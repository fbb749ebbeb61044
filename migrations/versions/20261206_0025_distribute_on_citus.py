"""On a Citus coordinator, distribute the schema: users and their rows by user, venue
aggregates by venue, venues and events as reference tables (``migrations/citus.py``).

Runs when the database has the Citus extension or ``DATABASE_DISTRIBUTED=citus`` (which
fails without it); on single-node PostgreSQL it does nothing. A table created by a later
migration must be placed by that migration too (``service/models/distribution.py``).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 17:00:00
"""

from alembic import op

from migrations import citus

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    if citus.wanted(connection):
        citus.distribute(connection)


def downgrade() -> None:
    if citus.wanted(op.get_bind()):
        raise RuntimeError(
            "a distributed schema is not undistributed by a migration: dump the data, "
            "migrate a single-node database and load it there"
        )
