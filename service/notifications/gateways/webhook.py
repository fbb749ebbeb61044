"""IRL's own signed webhook: the whole delivery as JSON, HMAC-SHA256 signed."""

import hashlib
import hmac
import json

from service.notifications.gateways import Prepared, Request

SIGNATURE_HEADER = "X-IRL-Signature"


def sign(secret: bytes, body: bytes) -> str:
    """The signature header's value for ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class Gateway:
    """``POST {PUSH_GATEWAY_URL}`` of ``{delivery_id, attempt, priority, devices,
    notification}``, signed ``X-IRL-Signature: sha256=<hex>``."""

    def __init__(self, settings):
        self.url = settings.gateway_url
        self.secret = settings.secret

    def prepare(self, delivery: dict) -> Prepared:
        """The one signed request carrying the delivery as it is."""
        raw = json.dumps(delivery, default=lambda v: v.isoformat(), separators=(",", ":"))
        raw = raw.encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.secret, raw),
            "X-IRL-Delivery": str(delivery["delivery_id"]),
        }
        return Prepared([Request(self.url, raw, headers)])

    @staticmethod
    def note(_response) -> str | None:
        """A 2xx answer says nothing more."""
        return None
