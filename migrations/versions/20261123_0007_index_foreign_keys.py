"""Index every foreign key, so deleting an account or an event never scans whole tables.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 14:32:20.802152
"""

import geoalchemy2  # noqa: F401
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_mayorship_changes_previous", "mayorship_changes", ["previous_user_id"], unique=False
    )
    op.create_index(
        "ix_meetings_event",
        "meetings",
        ["event_id"],
        unique=False,
        postgresql_where=sa.text("event_id IS NOT NULL"),
    )
    op.create_index("ix_meetings_meeting_venue", "meetings", ["meeting_venue_id"], unique=False)
    op.create_index("ix_meetings_other", "meetings", ["other_id"], unique=False)
    op.create_index("ix_meetings_venue", "meetings", ["venue_id"], unique=False)
    op.create_index("ix_relationships_other", "relationships", ["other_id"], unique=False)
    op.create_index("ix_user_venues_venue", "user_venues", ["venue_id"], unique=False)
    op.create_index("ix_venue_mayors_user", "venue_mayors", ["user_id"], unique=False)
    op.create_index("ix_venue_staff_user", "venue_staff", ["user_id"], unique=False)
    op.create_index("ix_venue_visit_days_user", "venue_visit_days", ["user_id"], unique=False)
    op.create_index("ix_venues_created_by", "venues", ["created_by"], unique=False)
    op.create_index("ix_venues_owner", "venues", ["owner_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_venues_owner", table_name="venues")
    op.drop_index("ix_venues_created_by", table_name="venues")
    op.drop_index("ix_venue_visit_days_user", table_name="venue_visit_days")
    op.drop_index("ix_venue_staff_user", table_name="venue_staff")
    op.drop_index("ix_venue_mayors_user", table_name="venue_mayors")
    op.drop_index("ix_user_venues_venue", table_name="user_venues")
    op.drop_index("ix_relationships_other", table_name="relationships")
    op.drop_index("ix_meetings_venue", table_name="meetings")
    op.drop_index("ix_meetings_other", table_name="meetings")
    op.drop_index("ix_meetings_meeting_venue", table_name="meetings")
    op.drop_index(
        "ix_meetings_event", table_name="meetings", postgresql_where=sa.text("event_id IS NOT NULL")
    )
    op.drop_index("ix_mayorship_changes_previous", table_name="mayorship_changes")
