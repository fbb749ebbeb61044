"""A stats read folds only its own venue's footfall changes.

With 0016 a stats read folded every pending change first, so a worker stopped for a day
would make the next owner's read fold a day of everyone's check-ins. Now
``footfall_fold(batch, only_venue)`` takes the oldest changes of one venue (an index on
``(venue_id, id)``), or of all venues when ``only_venue`` is null. The changes are
picked by id, then deleted: a change another fold took meanwhile is skipped by the
DELETE, so each is still folded once.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 09:20:00
"""

from importlib import import_module

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

FOLD_0016 = import_module("migrations.versions.20261206_0016_checkin_upkeep").FOLD
PICK_0016 = """    WITH taken AS (
        DELETE FROM venue_visit_changes
        WHERE id IN (SELECT id FROM venue_visit_changes ORDER BY id LIMIT batch)
        RETURNING *"""
PICK = """    IF only_venue IS NULL THEN
        SELECT array_agg(id) INTO ids FROM (
            SELECT id FROM venue_visit_changes ORDER BY id LIMIT batch) oldest;
    ELSE
        SELECT array_agg(id) INTO ids FROM (
            SELECT id FROM venue_visit_changes WHERE venue_id = only_venue
            ORDER BY id LIMIT batch) oldest;
    END IF;
    IF ids IS NULL THEN
        RETURN 0;
    END IF;
    WITH taken AS (
        DELETE FROM venue_visit_changes WHERE id = ANY (ids)
        RETURNING *"""
assert PICK_0016 in FOLD_0016
FOLD = (
    FOLD_0016.replace(
        "footfall_fold(batch integer)", "footfall_fold(batch integer, only_venue bigint)"
    )
    .replace("    gone_users bigint[];\n", "    gone_users bigint[];\n    ids bigint[];\n")
    .replace(PICK_0016, PICK)
)


def upgrade() -> None:
    op.create_index("ix_venue_visit_changes_venue", "venue_visit_changes", ["venue_id", "id"])
    op.execute("DROP FUNCTION footfall_fold(integer)")
    op.execute(FOLD)


def downgrade() -> None:
    op.execute("DROP FUNCTION footfall_fold(integer, bigint)")
    op.execute(FOLD_0016)
    op.drop_index("ix_venue_visit_changes_venue", "venue_visit_changes")
