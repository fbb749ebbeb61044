"""What IRL keeps of a network's display name and avatar URL (pure, no database)."""

import pytest

from service.identities.faces import Face
from service.identities.proofs import clean_name, clean_url


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("  Ada   Lovelace ", "Ada Lovelace"),
        ("Ada\nLovelace\t", "Ada Lovelace"),
        ("\u202eecalevol\u202c Ada", "ecalevol Ada"),
        ("\x00\x07", None),
        ("", None),
        (None, None),
        (42, None),
        (["Ada"], None),
        ("B" * 500, "B" * 200),
        ("🦀 Ferris :blobcat:", "🦀 Ferris :blobcat:"),
    ],
)
def test_display_names_are_plain_bounded_text(given, kept):
    assert clean_name(given) == kept


@pytest.mark.parametrize(
    "url",
    [
        "https://files.mastodon.social/accounts/avatars/1.png",
        "http://cdn.example/a.jpg?v=4",
        "https://avatars.githubusercontent.com/u/1?v=4",
    ],
)
def test_http_avatar_urls_are_kept_as_given(url):
    assert clean_url(url) == url
    assert clean_url(f"  {url} ") == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:image/png;base64,AAAA",
        "vbscript:x",
        "//cdn.example/a.png",
        "/a.png",
        "https://",
        "https:///a.png",
        "HTTPS://cdn.example/a.png",
        "https://cdn.example/a b.png",
        "https://cdn.example/a.png\r\nSet-Cookie: x",
        "https://cdn.example/\u202ea.png",
        "https://[::1",
        "https://cdn.example/" + "a" * 1000,
        None,
        {"url": "https://cdn.example/a.png"},
    ],
)
def test_other_avatar_urls_are_dropped(url):
    assert clean_url(url) is None


def test_a_face_is_shown_with_its_four_fields():
    face = Face("github", "ada", "Ada", None)
    assert face.as_dict() == {
        "network": "github",
        "handle": "ada",
        "display_name": "Ada",
        "avatar_url": None,
    }
