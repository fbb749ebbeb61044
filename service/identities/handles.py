"""Normalise handles on online networks so imports match linked identities.

Case and a leading ``@`` never matter; profile URLs are accepted; a Mastodon handle is
``user@instance`` (the instance is part of the identity).
"""

import re
from urllib.parse import urlparse

from service.errors import DomainError

PATTERNS = {
    "twitter": re.compile(r"[a-z0-9_]{1,15}"),
    "github": re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38})"),
    "instagram": re.compile(r"[a-z0-9_.]{1,30}"),
    "linkedin": re.compile(r"[a-z0-9-]{3,100}"),
    "bluesky": re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"),
    "mastodon": re.compile(
        r"[a-z0-9_]{1,30}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
        r"[a-z]{2,63}"
    ),
}
MAX_LENGTH = 320
NAMES = {
    "twitter": "Twitter",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "github": "GitHub",
    "linkedin": "LinkedIn",
    "instagram": "Instagram",
}


class InvalidHandle(DomainError):
    """A handle that cannot exist on its network."""


def _from_url(network: str, text: str) -> str:
    url = urlparse(text if "://" in text else f"https://{text}")
    path = [part for part in url.path.split("/") if part]
    if network == "mastodon" and path and path[0].startswith("@"):
        user = path[0][1:]
        return user if "@" in user else f"{user}@{url.hostname}"
    if network == "linkedin" and len(path) >= 2 and path[0] == "in":
        return path[1]
    if network == "bluesky" and len(path) >= 2 and path[0] == "profile":
        return path[1]
    return path[0] if path else ""


def normalise(network: str, raw: str) -> str:
    """The canonical form of a handle; ``InvalidHandle`` (422) if it cannot be one."""
    text = raw.strip()
    if "/" in text:
        text = _from_url(network, text)
    text = text.lstrip("@").lower()
    if len(text) > MAX_LENGTH or not PATTERNS[network].fullmatch(text):
        hint = (
            " (Mastodon handles include the instance: user@instance)"
            if network == "mastodon"
            else ""
        )
        raise InvalidHandle(f"{raw.strip()[:80]!r} is not a valid {network} handle{hint}.")
    return text


def try_normalise(network: str, raw: str) -> str | None:
    """Like ``normalise`` but ``None`` for junk (used for bulk imports)."""
    try:
        return normalise(network, raw)
    except InvalidHandle:
        return None
