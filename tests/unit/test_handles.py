"""Handle normalisation and import file parsing."""

import pytest

from service.contacts.importers import MAX_HANDLES, parse_upload
from service.errors import DomainError
from service.identities.handles import InvalidHandle, normalise, try_normalise


@pytest.mark.parametrize(
    ("network", "raw", "canonical"),
    [
        ("twitter", "@Jack", "jack"),
        ("twitter", "https://twitter.com/Jack", "jack"),
        ("mastodon", "@Gargron@Mastodon.Social", "gargron@mastodon.social"),
        ("mastodon", "gargron@mastodon.social", "gargron@mastodon.social"),
        ("mastodon", "https://mastodon.social/@Gargron", "gargron@mastodon.social"),
        ("github", "https://github.com/Torvalds", "torvalds"),
        ("bluesky", "@Jay.bsky.team", "jay.bsky.team"),
        ("linkedin", "https://www.linkedin.com/in/williamhgates/", "williamhgates"),
        ("instagram", " @NASA ", "nasa"),
    ],
)
def test_normalise(network, raw, canonical):
    assert normalise(network, raw) == canonical


@pytest.mark.parametrize(
    ("network", "raw"),
    [
        ("mastodon", "gargron"),
        ("twitter", "way_too_long_for_twitter"),
        ("github", "-bad"),
        ("twitter", "has space"),
        ("bluesky", "nodot"),
        ("twitter", ""),
    ],
)
def test_invalid_handles(network, raw):
    with pytest.raises(InvalidHandle):
        normalise(network, raw)
    assert try_normalise(network, raw) is None


def test_mastodon_export():
    data = (
        b"Account address,Show boosts,Notify on new posts,Languages\n"
        b"alice@mastodon.social,true,false,\n"
        b"bob@hachyderm.io,true,false,en\n"
    )
    assert parse_upload(data) == ["alice@mastodon.social", "bob@hachyderm.io"]


def test_plain_list_skips_blanks_and_comments():
    data = "\ufeff@alice\n\n# my list\nbob\r\n  carol  \n".encode()
    assert parse_upload(data) == ["@alice", "bob", "carol"]


def test_too_many_lines_or_binary():
    with pytest.raises(DomainError):
        parse_upload("\n".join(f"u{i}" for i in range(MAX_HANDLES + 1)).encode())
    with pytest.raises(DomainError):
        parse_upload(b"\xff\xfe\x00\x01")
    with pytest.raises(DomainError):
        parse_upload(b"alice\x00bob")
