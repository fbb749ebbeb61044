"""Pure parts of identity verification: what a profile shows, which hosts are public."""

import pytest

from service.identities.fetch import NetworkRefused, require_public_host
from service.identities.profile_text import visible_text
from service.identities.service import new_code


@pytest.mark.parametrize(
    ("html", "shown"),
    [
        ("<p>Hi <b>irl-abc</b></p>", "Hi irl-abc"),
        ("<p>a &amp; b</p>", "a & b"),
        ("<p>x<!-- irl-hidden --></p>", "x"),
        ('<a href="https://irl-hidden.example">site</a>', "site"),
        ("<script>irl-hidden</script><style>irl-hidden</style>ok", "ok"),
        ("<p>one</p><p>two</p>", "one two"),
    ],
)
def test_visible_text(html, shown):
    assert visible_text(html).strip() == shown


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "[::1]", "10.1.2.3", "169.254.169.254", "localhost", "a.localhost", "vm"]
)
def test_private_hosts_are_refused(host):
    with pytest.raises(NetworkRefused):
        require_public_host(host)


def test_codes_are_unguessable_and_distinct():
    codes = {new_code() for _ in range(1000)}
    assert len(codes) == 1000
    assert all(c.startswith("irl-") and len(c) == 20 for c in codes)


@pytest.mark.parametrize(
    "address",
    [
        "::ffff:10.0.0.1",
        "2002:0a00:0001::1",
        "64:ff9b::7f00:1",
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",
    ],
)
def test_ipv6_forms_of_private_ipv4_are_not_public(address):
    import ipaddress

    from service.identities.fetch import _public

    assert _public(ipaddress.ip_address(address)) is False


def test_public_addresses_are_public():
    import ipaddress

    from service.identities.fetch import _public

    assert _public(ipaddress.ip_address("8.8.8.8")) and _public(
        ipaddress.ip_address("2606:4700::1")
    )
