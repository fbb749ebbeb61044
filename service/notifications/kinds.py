"""Every kind of notification, declared once.

The table's check constraint (``models.notification``), the inbox's documented values
and the push priority are built from here. A new kind is one line here and a migration
that widens ``ck_notifications_kind`` (``KINDS`` keeps the constraint's order).
"""

NEARBY = "nearby"
MEETING = "meeting"
BADGE = "badge"
MAYORSHIP_GAINED = "mayorship_gained"
MAYORSHIP_LOST = "mayorship_lost"
STAFF_INVITATION = "staff_invitation"
PLAN_WATCH = "plan_watch"
PLAN_SAFETY = "plan_safety"
PLAN_WATCHING = "plan_watching"
PLAN_ARRIVED = "plan_arrived"
PLAN_OK = "plan_ok"
PLAN_CANCELLED = "plan_cancelled"
PLAN_MISSED = "plan_missed"

KINDS = (
    NEARBY,
    MEETING,
    BADGE,
    MAYORSHIP_GAINED,
    MAYORSHIP_LOST,
    STAFF_INVITATION,
    PLAN_WATCH,
    PLAN_SAFETY,
    PLAN_WATCHING,
    PLAN_ARRIVED,
    PLAN_OK,
    PLAN_CANCELLED,
    PLAN_MISSED,
)

# pushed at high priority (where the gateway supports it) and even in quiet hours
URGENT_KINDS = frozenset({PLAN_MISSED})
