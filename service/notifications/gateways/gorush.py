"""Gorush (github.com/appleboy/gorush): ``POST {PUSH_GATEWAY_URL}/api/push`` with one
notification per platform among the user's iOS (``platform: 1``) and Android (``2``)
devices. Web devices are not Gorush's: they are skipped and the delivery's record says so.
"""

import json

from service.notifications.gateways import Prepared, Request, shown

PLATFORMS = {"ios": 1, "android": 2}


class Gateway:
    """Gorush's push API; ``PUSH_GATEWAY_TOKEN``, if set, is sent as a bearer token (for a
    reverse proxy in front: Gorush itself has no authentication)."""

    def __init__(self, settings):
        self.url = settings.gateway_url.rstrip("/") + "/api/push"
        self.token = settings.token

    def prepare(self, delivery: dict) -> Prepared:
        """One request: an entry per platform, high priority for urgent kinds."""
        tokens: dict[str, list[str]] = {}
        for device in delivery["devices"]:
            tokens.setdefault(device["platform"], []).append(device["token"])
        entries = [
            self.entry(delivery, platform, tokens[platform])
            for platform in PLATFORMS
            if platform in tokens
        ]
        web = len(tokens.get("web", []))
        skipped = f"skipped {web} web device(s): Gorush cannot reach them" if web else None
        if not entries:
            return Prepared([], skipped)
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = json.dumps({"notifications": entries}, separators=(",", ":")).encode()
        return Prepared([Request(self.url, body, headers)], skipped)

    @staticmethod
    def entry(delivery: dict, platform: str, tokens: list[str]) -> dict:
        """Gorush's notification for one platform's tokens."""
        note = delivery["notification"]
        priority = "high" if shown.urgent(delivery) else "normal"
        entry = {
            "tokens": tokens,
            "platform": PLATFORMS[platform],
            "title": shown.title(note["kind"]),
            "message": note["message"],
            "priority": priority,
            "data": shown.data(note),
        }
        collapse = shown.collapse_id(note)
        if platform == "ios":
            entry["sound"] = "default"
            if collapse:
                entry["collapse_id"] = collapse
        else:
            # the documented top-level key, and where Gorush's FCM v1 client reads it
            entry["android"] = {"priority": priority}
            if collapse:
                entry["collapse_key"] = collapse
                entry["android"]["collapse_key"] = collapse
        return entry

    @staticmethod
    def note(response) -> str | None:
        """Gorush answers ``{"counts", "logs", "success": "ok"}``; in its sync mode the
        logs list each token APNs/FCM refused: recorded, not retried."""
        try:
            logs = response.json().get("logs") or []
        except (ValueError, AttributeError):
            return None
        failed = [entry for entry in logs if entry.get("type") == "failed-push"]
        if not failed:
            return None
        errors = "; ".join(f"{e.get('platform')}: {e.get('error')}" for e in failed[:5])
        return f"Gorush reported {len(failed)} failed push(es): {errors}"[:500]
