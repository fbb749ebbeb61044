"""Badge counters: what the distinct-venue and distinct-city badges count, kept.

``users.venues_visited`` and ``users.cities_visited`` follow ``user_venues`` and
``user_cities`` (incremented with each first visit and new city, under the user's lock),
so Explorer, Superstar and Jetsetter are a lookup, not a count, on every check-in.
Filled from the rows already there; ``recompute-rewards`` rebuilds them.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for column, counts in (("venues_visited", "user_venues"), ("cities_visited", "user_cities")):
        op.add_column(
            "users",
            sa.Column(
                column,
                sa.Integer(),
                nullable=False,
                server_default="0",
                comment=f"rows of {counts}, kept",
            ),
        )
    op.execute(
        "UPDATE users u SET venues_visited = v.n FROM"
        " (SELECT user_id, count(*) AS n FROM user_venues GROUP BY user_id) v"
        " WHERE v.user_id = u.id"
    )
    op.execute(
        "UPDATE users u SET cities_visited = c.n FROM"
        " (SELECT user_id, count(*) AS n FROM user_cities GROUP BY user_id) c"
        " WHERE c.user_id = u.id"
    )


def downgrade() -> None:
    op.drop_column("users", "cities_visited")
    op.drop_column("users", "venues_visited")
