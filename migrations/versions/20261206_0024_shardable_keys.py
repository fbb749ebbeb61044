"""Keys a sharded schema can keep: every primary key and unique constraint of a table
keyed by user or venue includes that column, and each global uniqueness that cannot
moves to a lookup table keyed by the unique value itself.

- ``user_handles`` / ``user_emails``: lower(handle) and lower(email), one account each
  (uq_users_handle and uq_users_email stay on a single node until the schema is
  distributed; the code detects conflicts through the lookup tables).
- ``devices``: primary key (user_id, id); a token's uniqueness moves to ``device_tokens``
  (ix_devices_user goes: the primary key leads with user_id).
- ``calendar_tokens``: the token hash's uniqueness moves to ``calendar_token_hashes``,
  which the feed URL is looked up by (one row, where a plain index on the hash would ask
  every shard for every feed request, and the feed needs no sign-in).
- ``notification_streams``: primary key (user_id, id).
- ``identities``: the partial unique (network, handle) of verified identities moves to
  ``verified_handles`` (primary key (handle, network): distributed by the handle).
- ``mayorship_changes`` and ``venue_claims``: primary key (venue_id, id);
  ``venue_staff``: unique (venue_id, id) instead of unique (id).

The lookup tables have no foreign key to users: distributed by their own key, they
cannot have one on Citus.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

# table → (primary key before, primary key after)
PRIMARY_KEYS = {
    "devices": (["id"], ["user_id", "id"]),
    "notification_streams": (["id"], ["user_id", "id"]),
    "mayorship_changes": (["id"], ["venue_id", "id"]),
    "venue_claims": (["id"], ["venue_id", "id"]),
}


def _lookup(name: str, key: sa.Column, *more: sa.Column) -> None:
    op.create_table(
        name,
        key,
        *more,
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(key.name, *(c.name for c in more), name=f"pk_{name}"),
    )


def _primary_key(table: str, columns: list[str]) -> None:
    op.drop_constraint(f"pk_{table}", table, type_="primary")
    op.create_primary_key(f"pk_{table}", table, columns)


def upgrade() -> None:
    _lookup("user_handles", sa.Column("handle", sa.Text()))
    _lookup("user_emails", sa.Column("email", sa.Text()))
    op.execute("INSERT INTO user_handles (handle, user_id) SELECT lower(handle), id FROM users")
    op.execute("INSERT INTO user_emails (email, user_id) SELECT lower(email), id FROM users")

    _lookup("device_tokens", sa.Column("token", sa.Text()))
    op.execute("INSERT INTO device_tokens (token, user_id) SELECT token, user_id FROM devices")
    op.drop_index("uq_devices_token", table_name="devices")
    op.drop_index("ix_devices_user", table_name="devices")

    _lookup("calendar_token_hashes", sa.Column("token_hash", sa.LargeBinary(32)))
    op.execute(
        "INSERT INTO calendar_token_hashes (token_hash, user_id) "
        "SELECT token_hash, user_id FROM calendar_tokens"
    )
    op.drop_constraint("uq_calendar_tokens_token_hash", "calendar_tokens", type_="unique")

    _lookup(
        "verified_handles", sa.Column("handle", sa.String(320)), sa.Column("network", sa.String(16))
    )
    op.execute(
        "INSERT INTO verified_handles (handle, network, user_id) "
        "SELECT handle, network, user_id FROM identities WHERE verified_at IS NOT NULL"
    )
    op.drop_index("uq_identities_network_handle", table_name="identities")

    for table, (_before, after) in PRIMARY_KEYS.items():
        _primary_key(table, after)
    op.drop_constraint("uq_venue_staff_id", "venue_staff", type_="unique")
    op.create_unique_constraint("uq_venue_staff_venue_id_id", "venue_staff", ["venue_id", "id"])


def downgrade() -> None:
    op.drop_constraint("uq_venue_staff_venue_id_id", "venue_staff", type_="unique")
    op.create_unique_constraint("uq_venue_staff_id", "venue_staff", ["id"])
    for table, (before, _after) in PRIMARY_KEYS.items():
        _primary_key(table, before)

    op.create_index(
        "uq_identities_network_handle",
        "identities",
        ["network", "handle"],
        unique=True,
        postgresql_where=sa.text("verified_at IS NOT NULL"),
    )
    op.drop_table("verified_handles")

    op.create_unique_constraint("uq_calendar_tokens_token_hash", "calendar_tokens", ["token_hash"])
    op.drop_table("calendar_token_hashes")

    op.create_index("ix_devices_user", "devices", ["user_id"])
    op.create_index("uq_devices_token", "devices", ["token"], unique=True)
    op.drop_table("device_tokens")

    op.drop_table("user_emails")
    op.drop_table("user_handles")
