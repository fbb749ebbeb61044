"""Each user's latest visible check-in, kept on their row.

"Where did this contact last let me see them" was a lateral probe per contact into
``checkins`` (the newest shared row) and ``venues`` (its point): 50 contacts, ~250
buffer visits, in the nearby fan-out of every check-in and in nearby contacts. Now
``users.seen_*`` hold that check-in's id, effective time, venue and the venue's point,
kept by every check-in (only a later one replaces them, so an offline replay never
does), carried along by a venue's move; filled here from the history.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 09:00:00
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

COLUMNS = ("seen_checkin_id", "seen_at", "seen_venue_id", "seen_location")


def upgrade() -> None:
    op.add_column("users", sa.Column("seen_checkin_id", sa.BigInteger()))
    op.add_column("users", sa.Column("seen_at", sa.DateTime(timezone=True)))
    op.add_column("users", sa.Column("seen_venue_id", sa.BigInteger()))
    op.add_column(
        "users",
        sa.Column(
            "seen_location",
            geoalchemy2.Geography(geometry_type="POINT", srid=4326, spatial_index=False),
        ),
    )
    op.execute(  # one probe of the visible check-ins' index per person
        "UPDATE users u SET seen_checkin_id = l.id, seen_at = l.effective_at,"
        " seen_venue_id = l.venue_id, seen_location = l.location"
        " FROM users p CROSS JOIN LATERAL ("
        "   SELECT c.id, c.effective_at, c.venue_id, v.location"
        "   FROM checkins c JOIN venues v ON v.id = c.venue_id"
        "   WHERE c.user_id = p.id AND NOT c.private AND c.shared"
        "   ORDER BY c.effective_at DESC, c.id DESC LIMIT 1) l"
        " WHERE u.id = p.id"
    )


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.drop_column("users", column)
