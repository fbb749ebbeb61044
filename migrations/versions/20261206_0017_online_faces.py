"""The online face: a verified identity keeps when its public name and picture were read,
and the database refuses a picture URL that is not http(s).

Pictures already stored that an app should not load (``javascript:``, ``data:``, with
whitespace) are dropped before the rule is added; names and URLs were already bounded
(200 and 1,000 characters) by their column types.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 08:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

AVATAR_URL_RULE = "avatar_url IS NULL OR avatar_url ~ '^https?://[^[:space:]]+$'"


def upgrade() -> None:
    op.add_column("identities", sa.Column("profile_fetched_at", sa.DateTime(timezone=True)))
    op.execute(
        "UPDATE identities SET profile_fetched_at = verified_at "
        "WHERE verified_at IS NOT NULL AND (profile_name IS NOT NULL OR avatar_url IS NOT NULL)"
    )
    op.execute(f"UPDATE identities SET avatar_url = NULL WHERE NOT ({AVATAR_URL_RULE})")
    op.create_check_constraint(op.f("ck_identities_avatar_url_http"), "identities", AVATAR_URL_RULE)


def downgrade() -> None:
    op.drop_constraint(op.f("ck_identities_avatar_url_http"), "identities", type_="check")
    op.drop_column("identities", "profile_fetched_at")
