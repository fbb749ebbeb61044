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
