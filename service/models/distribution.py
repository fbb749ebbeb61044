"""How every table is placed on a Citus cluster: the plan ``migrations`` apply when the
database is a Citus coordinator (docs/SCALING.md says why each table sits where it does).

Co-location groups hold the data: a user's rows (one shard per user, so a check-in's
statements route to one node), a venue's aggregates (one shard per venue), and lookup
tables keyed by a name (a handle, an email, a token) that make a global uniqueness one
shard's primary key. Venues, events and the admin log are reference tables: a copy on
every node, joinable with anything. A table missing from this plan fails a unit test.
"""

from dataclasses import dataclass

REFERENCE = ("venues", "events", "admin_actions")


@dataclass(frozen=True)
class Distributed:
    """A hash-distributed table: its column, and the table it is co-located with
    (``None`` starts a group of its own)."""

    table: str
    column: str
    colocate_with: str | None


def _group(first: str, column: str, *members: tuple[str, str]) -> tuple[Distributed, ...]:
    members_placed = (Distributed(table, on, first) for table, on in members)
    return (Distributed(first, column, None), *members_placed)


# Order matters: a group's first table before its members.
DISTRIBUTED: tuple[Distributed, ...] = (
    *_group(
        "users",
        "id",
        ("checkins", "user_id"),
        ("points_ledger", "user_id"),
        ("relationships", "user_id"),
        ("follows", "follower_id"),
        ("identities", "user_id"),
        ("meetings", "user_id"),
        ("user_badges", "user_id"),
        ("user_venues", "user_id"),
        ("user_cities", "user_id"),
        ("nearby_quotas", "user_id"),
        ("notifications", "user_id"),
        ("push_deliveries", "user_id"),
        ("notification_streams", "user_id"),
        ("devices", "user_id"),
        ("idempotency_keys", "user_id"),
        ("refresh_tokens", "user_id"),
        ("event_rsvps", "user_id"),
        ("plans", "user_id"),
        ("calendar_tokens", "user_id"),
        ("calendar_cancellations", "user_id"),
    ),
    *_group(
        "venue_visit_days",
        "venue_id",
        ("venue_mayors", "venue_id"),
        ("mayorship_changes", "venue_id"),
        ("venue_staff", "venue_id"),
        ("venue_claims", "venue_id"),
        ("venue_visits", "venue_id"),
        ("venue_hours", "venue_id"),
        ("venue_visitors", "venue_id"),
        ("venue_visitor_days", "venue_id"),
        ("venue_visit_changes", "venue_id"),
    ),
    # the imports waiting for a handle, and who verified it: one shard per handle
    *_group("pending_follows", "handle", ("verified_handles", "handle")),
    *_group("user_handles", "handle", ("user_emails", "email"), ("device_tokens", "token")),
    *_group("calendar_token_hashes", "token_hash"),
    *_group("oauth_states", "state"),
)

# Unique indexes a distributed table cannot keep (they leave out its distribution column),
# each with the table that holds the same uniqueness on Citus.
REPLACED_UNIQUES = {
    "uq_users_handle": "user_handles",
    "uq_users_email": "user_emails",
}


def planned_tables() -> set[str]:
    """Every table the plan places."""
    return set(REFERENCE) | {item.table for item in DISTRIBUTED}
