"""Read a public profile through the network's own public API, in its real JSON shape.

- Mastodon: ``GET {instance}/api/v1/accounts/lookup?acct=`` → an Account (``username``,
  ``display_name``, ``note`` in HTML, ``avatar``, ``fields[{name, value, verified_at}]``);
- Bluesky: ``GET {api}/xrpc/app.bsky.actor.getProfile?actor=`` → ProfileViewDetailed
  (``handle``, ``displayName``, ``description``, ``avatar``);
- GitHub: ``GET {api}/users/{login}`` → a user (``login``, ``name``, ``bio``, ``avatar_url``).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from service.identities.fetch import FetchLimits, Unavailable, get_json, require_public_host
from service.identities.handles import NAMES
from service.identities.profile_text import visible_text

PROOF_NETWORKS = ("mastodon", "bluesky", "github")


@dataclass(frozen=True)
class Profile:
    """What a network shows publicly about one account."""

    handle: str
    display_name: str | None
    avatar_url: str | None
    text: str  # what a visitor reads in the bio / description / profile fields


@dataclass(frozen=True)
class Endpoints:
    """The configured base URLs (``MASTODON_URL_TEMPLATE`` has ``{instance}``)."""

    mastodon_template: str
    bluesky_api: str
    github_api: str

    @classmethod
    def from_config(cls, config) -> "Endpoints":
        """The base URLs the app is configured with."""
        return cls(
            config["MASTODON_URL_TEMPLATE"], config["BLUESKY_API_URL"], config["GITHUB_API_URL"]
        )


def read_profile(network: str, handle: str, *, endpoints: Endpoints, limits: FetchLimits):
    """The public profile of ``handle`` on ``network`` (a proof network)."""
    return READERS[network](handle, endpoints, limits)


def _mastodon(handle: str, endpoints: Endpoints, limits: FetchLimits) -> Profile:
    user, instance = handle.split("@", 1)
    template = endpoints.mastodon_template
    if "{instance}" in urlsplit(template).netloc:
        require_public_host(instance)
    base = template.format(instance=instance).rstrip("/")
    url = f"{base}/api/v1/accounts/lookup"
    account = _account("mastodon", url, limits, {"acct": user}, key="username", expected=user)
    parts = [visible_text(_text(account.get("note")))]
    for field in account.get("fields") or []:
        if isinstance(field, dict):
            parts += [_text(field.get("name")), visible_text(_text(field.get("value")))]
    return Profile(
        handle,
        clean_name(account.get("display_name")),
        clean_url(account.get("avatar")),
        "\n".join(parts),
    )


def _bluesky(handle: str, endpoints: Endpoints, limits: FetchLimits) -> Profile:
    url = f"{endpoints.bluesky_api.rstrip('/')}/xrpc/app.bsky.actor.getProfile"
    profile = _account("bluesky", url, limits, {"actor": handle}, key="handle", expected=handle)
    return Profile(
        handle,
        clean_name(profile.get("displayName")),
        clean_url(profile.get("avatar")),
        _text(profile.get("description")),
    )


def _github(handle: str, endpoints: Endpoints, limits: FetchLimits) -> Profile:
    url = f"{endpoints.github_api.rstrip('/')}/users/{quote(handle, safe='')}"
    user = _account("github", url, limits, None, key="login", expected=handle)
    return Profile(
        handle,
        clean_name(user.get("name")),
        clean_url(user.get("avatar_url")),
        _text(user.get("bio")),
    )


def _account(
    network: str, url: str, limits: FetchLimits, params: dict | None, *, key: str, expected: str
) -> dict:
    """The network's JSON object for one account, checked to be the account asked for."""
    body = get_json(url, params=params, network=network, limits=limits)
    if not isinstance(body, dict):
        raise Unavailable(f"{NAMES[network]} answered an unexpected shape.", retry_after=60)
    if _text(body.get(key)).lower() != expected:
        raise Unavailable(f"{NAMES[network]} answered for another account.", retry_after=60)
    return body


READERS: dict[str, Callable[[str, Endpoints, FetchLimits], Profile]] = {
    "mastodon": _mastodon,
    "bluesky": _bluesky,
    "github": _github,
}


def _text(value) -> str:
    return value if isinstance(value, str) else ""


# control characters and the bidirectional overrides that let a name display as another
UNSHOWN = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
NAME_MAX = 200
URL_MAX = 1000


def clean_name(value) -> str | None:
    """A network's display name as IRL keeps it: text without control characters,
    whitespace collapsed, at most 200 characters; None when nothing is left."""
    text = " ".join(UNSHOWN.sub(" ", _text(value)).split())
    return text[:NAME_MAX].rstrip() or None


def clean_url(value) -> str | None:
    """An avatar URL as IRL keeps it: an absolute http(s) URL with a host, as the network
    gave it, at most 1,000 characters, with no whitespace or control character; else
    None (a ``javascript:`` or ``data:`` URL, or a huge one, is dropped, not cut)."""
    text = _text(value).strip()
    if not text or len(text) > URL_MAX or UNSHOWN.search(text) or any(c.isspace() for c in text):
        return None
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    if not text.startswith(("https://", "http://")) or not host:
        return None
    return text
