"""ntfy (ntfy.sh, self-hosted or not): one JSON publish per topic, ``POST
{PUSH_GATEWAY_URL}/`` with ``{topic, title, message, tags, priority}``.

A device's token is its topic: a ``web`` or ``android`` device registered with a bare
ntfy topic (``[-_A-Za-z0-9]{1,64}``) or with a UnifiedPush endpoint on this same server
(``https://ntfy.example/upAbC123?up=1``). Other devices (iOS, an FCM token, an endpoint on
another server) are skipped and the delivery's record says so.
"""

import json
import re
from urllib.parse import urlsplit

from service.notifications.gateways import Prepared, Request, shown

TOPIC = re.compile(r"[-_A-Za-z0-9]{1,64}")
PLATFORMS = ("web", "android")
MAX, DEFAULT = 5, 3  # ntfy's priorities: 1 min .. 3 default .. 5 max


class Gateway:
    """ntfy's JSON publishing; ``PUSH_GATEWAY_TOKEN`` (an access token ``tk_...``) is
    sent as ``Authorization: Bearer`` when set."""

    def __init__(self, settings):
        self.base = settings.gateway_url.rstrip("/")
        self.origin = _origin(self.base)
        self.token = settings.token

    def topic(self, device: dict) -> str | None:
        """The ntfy topic a device's token names, or None when it is not one of ours."""
        if device["platform"] not in PLATFORMS:
            return None
        token = device["token"]
        if TOPIC.fullmatch(token):
            return token
        parts = urlsplit(token)
        if _origin(token) == self.origin and TOPIC.fullmatch(parts.path.lstrip("/")):
            return parts.path.lstrip("/")
        return None

    def prepare(self, delivery: dict) -> Prepared:
        """A request per distinct topic among the user's devices."""
        topics = list(dict.fromkeys(t for t in map(self.topic, delivery["devices"]) if t))
        left = len(delivery["devices"]) - sum(1 for d in delivery["devices"] if self.topic(d))
        skipped = f"skipped {left} device(s) with no ntfy topic" if left else None
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        note = delivery["notification"]
        urgent = shown.urgent(delivery)
        requests = [
            Request(
                self.base + "/",
                json.dumps(
                    {
                        "topic": topic,
                        "title": shown.title(note["kind"]),
                        "message": note["message"],
                        "tags": (["rotating_light"] if urgent else []) + ["irl", note["kind"]],
                        "priority": MAX if urgent else DEFAULT,
                    },
                    separators=(",", ":"),
                ).encode(),
                headers,
            )
            for topic in topics
        ]
        return Prepared(requests, skipped, labels=[f"topic {t[:6]}…" for t in topics])

    @staticmethod
    def note(_response) -> str | None:
        """ntfy answers the published message; nothing more to record."""
        return None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return (parts.scheme.lower(), parts.netloc.lower())
