"""Read a network's public JSON API without trusting it: short deadline, size cap, no
redirects, and no requests into private address space for hosts a user chose.

A Mastodon instance comes from the handle a user typed, so when the URL template puts
``{instance}`` in the host, that host must be a public internet address (no SSRF into
the operator's network); hosts the operator configured (``BLUESKY_API_URL``, a test
template) are trusted as they are.
"""

import ipaddress
import json
import socket
import time
from dataclasses import dataclass

import httpx

from service.errors import DomainError, Unavailable
from service.identities.handles import NAMES

USER_AGENT = "IRL-identity-check/1.0 (+https://irl.example/verify)"


class NetworkRefused(DomainError):
    """The address is not one IRL will contact (private, loopback, not resolvable)."""

    status = 422


class NoSuchAccount(DomainError):
    """The network says the account does not exist."""

    status = 422


@dataclass(frozen=True)
class FetchLimits:
    """How long (seconds, whole answer) and how much (bytes) to read."""

    timeout_s: float
    max_bytes: int

    @classmethod
    def from_config(cls, config) -> "FetchLimits":
        """``IDENTITY_FETCH_TIMEOUT_S`` and ``IDENTITY_FETCH_MAX_BYTES``."""
        return cls(config["IDENTITY_FETCH_TIMEOUT_S"], config["IDENTITY_FETCH_MAX_BYTES"])


def require_public_host(host: str) -> None:
    """Refuse a host that is an address literal or resolves to a non-public address."""
    name = host.strip("[]").lower()
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        raise NetworkRefused(f"{host} is an address, not a server name.")
    if name == "localhost" or name.endswith((".localhost", ".local", ".internal")):
        raise NetworkRefused(f"{host} is not a public server.")
    try:
        infos = socket.getaddrinfo(name, 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Unavailable(f"{host} cannot be reached right now.", retry_after=60) from exc
    for info in infos:
        if not _public(ipaddress.ip_address(info[4][0].split("%")[0])):
            raise NetworkRefused(f"{host} is not a public server.")


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _public(address) -> bool:
    """A global address, and for IPv6 forms that carry an IPv4 one (mapped, 6to4, Teredo,
    NAT64), that IPv4 address is global too."""
    if not address.is_global:
        return False
    if address.version == 6:
        inner = address.ipv4_mapped or address.sixtofour
        if address.teredo:
            inner = address.teredo[1]
        if address in NAT64:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None and not inner.is_global:
            return False
    return True


def get_json(url: str, *, network: str, limits: FetchLimits, params: dict | None = None):
    """GET ``url`` and decode its JSON; 503 when the network cannot answer usefully,
    ``NoSuchAccount`` on 404/410."""
    deadline = time.monotonic() + limits.timeout_s
    body = bytearray()
    try:
        with (
            httpx.Client(
                timeout=httpx.Timeout(limits.timeout_s),
                follow_redirects=False,
                # identity: the size cap counts what arrives, not what a gzip bomb inflates to
                headers={
                    "User-Agent": USER_AGENT,
                    "Accept": "application/json",
                    "Accept-Encoding": "identity",
                },
            ) as client,
            client.stream("GET", url, params=params) as response,
        ):
            if response.status_code in (404, 410):
                raise NoSuchAccount(f"{NAMES[network]} has no such account.")
            if response.is_redirect:
                raise _unusable(network, "answered with a redirect (not followed)")
            if response.status_code != 200:
                raise _unusable(network, f"answered {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limits.max_bytes:
                raise _unusable(network, "sent a profile larger than we read")
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limits.max_bytes:
                    raise _unusable(network, "sent a profile larger than we read")
                if time.monotonic() > deadline:
                    raise _unusable(network, "took too long to answer")
    except httpx.TimeoutException as exc:
        raise _unusable(network, "took too long to answer") from exc
    except httpx.HTTPError as exc:
        raise _unusable(network, "cannot be reached right now") from exc
    try:
        return json.loads(body)
    except ValueError as exc:
        raise _unusable(network, "answered something that is not JSON") from exc


def _unusable(network: str, what: str) -> Unavailable:
    return Unavailable(
        f"{NAMES[network]} {what}; nothing was changed. Try again later.", retry_after=60
    )
