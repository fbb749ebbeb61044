"""What a phone's notification shows, for gateways that talk to phones (pure).

Only the text, a title and ids: never a position (``location``, ``last_seen``), never a
token. The app fetches the rest from the inbox with its own access token.
"""

from service.notifications import kinds

TITLES = {
    kinds.NEARBY: "A friend is nearby",
    kinds.MEETING: "You met in person",
    kinds.BADGE: "New badge",
    kinds.MAYORSHIP_GAINED: "Mayorship",
    kinds.MAYORSHIP_LOST: "Mayorship",
    kinds.STAFF_INVITATION: "Staff invitation",
    kinds.PLAN_MISSED: "Safety alert",
}
PLAN_TITLE = "Meeting plan"


def title(kind: str) -> str:
    """The notification's title for its kind."""
    return TITLES.get(kind, PLAN_TITLE if kind.startswith("plan_") else "IRL")


def urgent(delivery: dict) -> bool:
    """Whether the delivery is a safety alert (``kinds.URGENT_KINDS``)."""
    return delivery["notification"]["kind"] in kinds.URGENT_KINDS


def data(notification: dict) -> dict:
    """Ids the app acts on: the notification's, its kind, the ``*_id`` numbers its data
    names, the venue's id and the handle of whoever it names."""
    details = notification.get("data") or {}
    out = {"notification_id": notification["id"], "kind": notification["kind"]}
    for key, value in details.items():
        if key.endswith("_id") and isinstance(value, int) and not isinstance(value, bool):
            out[key] = value
    venue, person = details.get("venue"), details.get("user")
    if isinstance(venue, dict) and isinstance(venue.get("id"), int):
        out["venue_id"] = venue["id"]
    if isinstance(person, dict) and isinstance(person.get("handle"), str):
        out["handle"] = person["handle"]
    return out


def collapse_id(notification: dict) -> str | None:
    """``nearby-<handle>`` for a nearby ping, so a burst from one sender shows as one
    notification; None (no collapsing) for every other kind."""
    person = (notification.get("data") or {}).get("user")
    if notification["kind"] == kinds.NEARBY and isinstance(person, dict):
        return f"nearby-{str(person.get('handle', '')).lower()}"
    return None
