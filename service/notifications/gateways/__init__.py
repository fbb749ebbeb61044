"""Push gateways: how one delivery becomes HTTP requests, one small adapter per kind.

The worker (``push.py``) keeps the claims, leases, backoff and giving up; an adapter only
builds the request(s) for a delivery (``Prepared``) and, for a 2xx answer, says what the
gateway reported (``note``). Kinds: ``webhook`` (IRL's signed JSON, the default),
``gorush`` (github.com/appleboy/gorush ``POST /api/push``) and ``ntfy`` (ntfy's JSON
publish, one topic per device).
"""

from dataclasses import dataclass, field

KINDS = ("webhook", "gorush", "ntfy")


@dataclass(frozen=True)
class Request:
    """One HTTP POST to make."""

    url: str
    content: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Prepared:
    """The requests for one delivery, and what was left out (devices this gateway cannot
    reach), said for the delivery's record."""

    requests: list[Request]
    skipped: str | None = None
    labels: list[str] = field(default_factory=list)  # what each request is for, in errors


def adapter(settings):
    """The adapter for ``settings.kind`` (one of ``KINDS``)."""
    from service.notifications.gateways import gorush, ntfy, webhook

    chosen = {"webhook": webhook, "gorush": gorush, "ntfy": ntfy}.get(settings.kind)
    if chosen is None:
        raise ValueError(f"unknown push gateway kind {settings.kind!r}: one of {', '.join(KINDS)}")
    return chosen.Gateway(settings)
