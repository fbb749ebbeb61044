"""Claiming and verifying online identities by proof in the public profile."""

import pytest
from sqlalchemy import text

from service.database import db


def _claim(client, user, network, handle):
    return client.put(
        f"/api/v1/me/identities/{network}", headers=user["headers"], json={"handle": handle}
    )


def _verify(client, user, network):
    return client.post(f"/api/v1/me/identities/{network}/verify", headers=user["headers"])


def _mine(client, user):
    return client.get("/api/v1/me/identities", headers=user["headers"]).json["items"]


def test_claim_list_replace_unlink(client, actions):
    user = actions.register()
    first = _claim(client, user, "mastodon", "@Alice@Mastodon.Social")
    assert first.status_code == 201
    assert first.json["handle"] == "alice@mastodon.social"
    assert first.json["verified"] is False and first.json["verified_at"] is None
    assert first.json["proof_code"].startswith("irl-")
    assert first.json["proof_code"] in first.json["proof_instructions"]
    assert "/api/v1/me/identities/mastodon/verify" in first.json["proof_instructions"]
    again = _claim(client, user, "mastodon", "@alice@mastodon.social")
    assert again.status_code == 200 and again.json["proof_code"] == first.json["proof_code"]
    replaced = _claim(client, user, "mastodon", "https://hachyderm.io/@alice")
    assert replaced.status_code == 200 and replaced.json["handle"] == "alice@hachyderm.io"
    assert replaced.json["proof_code"] != first.json["proof_code"]
    _claim(client, user, "github", "Alice")
    assert [(i["network"], i["handle"], i["verified"]) for i in _mine(client, user)] == [
        ("github", "alice", False),
        ("mastodon", "alice@hachyderm.io", False),
    ]
    assert client.delete("/api/v1/me/identities/github", headers=user["headers"]).status_code == 204
    assert client.delete("/api/v1/me/identities/github", headers=user["headers"]).status_code == 404
    assert len(_mine(client, user)) == 1


def test_oauth_networks_say_how_to_verify(client, actions):
    user = actions.register()
    claimed = _claim(client, user, "twitter", "@someone")
    assert claimed.status_code == 201 and claimed.json["proof_code"] is None
    assert "/api/v1/me/identities/twitter/authorize" in claimed.json["proof_instructions"]
    refused = _verify(client, user, "twitter")
    assert refused.status_code == 422 and "authorize" in refused.json["message"]
    assert _mine(client, user)[0]["verified"] is False


@pytest.mark.parametrize(
    ("network", "handle", "where"),
    [
        ("mastodon", "ann@social.example", "note"),
        ("mastodon", "ann@social.example", "field"),
        ("bluesky", "ann.bsky.social", "description"),
        ("github", "ann-gh", "bio"),
    ],
)
def test_code_in_the_public_profile_verifies(client, actions, networks, network, handle, where):
    user = actions.register()
    code = _claim(client, user, network, handle).json["proof_code"]
    networks.publish(network, handle, "nothing here yet")
    missing = _verify(client, user, network)
    assert missing.status_code == 422 and code in missing.json["message"]
    assert _mine(client, user)[0]["verified"] is False
    if where == "field":
        account = networks.profiles[(network, handle)]
        account["fields"] = [
            {
                "name": "IRL",
                "value": f'<a href="https://irl.example" rel="me">{code.upper()}</a>',
                "verified_at": None,
            }
        ]
    else:
        networks.publish(network, handle, f"Coffee & code. {code}")
    done = _verify(client, user, network)
    assert done.status_code == 200, done.json
    assert done.json["verified"] is True and done.json["verified_at"]
    assert done.json["proof_code"] is None and done.json["proof_instructions"] is None
    assert done.json["display_name"] and done.json["avatar_url"].startswith("https://")
    networks.publish(network, handle, "code removed")
    assert _verify(client, user, network).json["verified"] is True  # stays verified


@pytest.mark.parametrize(
    "html",
    [
        "<p>hello <!-- {code} --></p>",
        '<p><a href="https://x.example/{code}">my site</a></p>',
        '<p><span title="{code}">hover me</span></p>',
        "<p><script>var c = '{code}'</script>hi</p>",
    ],
)
def test_hidden_code_in_mastodon_html_does_not_count(client, actions, networks, html):
    """Mastodon's note is HTML: a code nobody sees (comment, attribute) proves nothing."""
    user = actions.register()
    handle = "bob@social.example"
    code = _claim(client, user, "mastodon", handle).json["proof_code"]
    networks.publish("mastodon", handle)
    networks.profiles[("mastodon", handle)]["note"] = html.format(code=code)
    response = _verify(client, user, "mastodon")
    assert response.status_code == 422
    assert _mine(client, user)[0]["verified"] is False


def test_another_claims_code_does_not_verify(client, actions, networks):
    """The victim published their own code; the attacker's claim of the same handle needs
    the attacker's code, which only the account's owner could publish."""
    victim, attacker = actions.register(), actions.register()
    victim_code = _claim(client, victim, "github", "victim-gh").json["proof_code"]
    attacker_code = _claim(client, attacker, "github", "victim-gh").json["proof_code"]
    assert attacker_code != victim_code
    networks.publish("github", "victim-gh", victim_code)
    assert _verify(client, attacker, "github").status_code == 422
    assert _verify(client, victim, "github").status_code == 200
    assert _mine(client, attacker) == []  # the other claim is dropped
    taken = _claim(client, attacker, "github", "victim-gh")
    assert taken.status_code == 409 and "another account" in taken.json["message"]


def test_unverified_claim_does_not_block_the_owner(client, actions, verified):
    squatter, owner = actions.register(), actions.register()
    assert _claim(client, squatter, "bluesky", "owner.bsky.social").status_code == 201
    verified(owner, "bluesky", "owner.bsky.social")
    assert _mine(client, squatter) == []


@pytest.mark.parametrize(
    ("how", "status", "words"),
    [
        ("huge", 503, "larger"),
        ("slow", 503, "too long"),
        ("redirect", 503, "redirect"),
    ],
)
def test_misbehaving_network_changes_nothing(client, actions, networks, how, status, words):
    user = actions.register()
    handle = f"{how}-account"
    _claim(client, user, "github", handle)
    networks.misbehave("github", handle, how)
    response = _verify(client, user, "github")
    assert response.status_code == status and words in response.json["message"]
    assert response.headers["Retry-After"]
    assert _mine(client, user)[0]["verified"] is False


def test_unknown_account_and_unreachable_network(app, client, actions):
    user = actions.register()
    _claim(client, user, "github", "nobody-there")
    missing = _verify(client, user, "github")
    assert missing.status_code == 422 and "no such account" in missing.json["message"]
    app.config["GITHUB_API_URL"] = "http://127.0.0.1:9"  # nothing listens on port 9
    down = _verify(client, user, "github")
    assert down.status_code == 503 and "cannot be reached" in down.json["message"]
    assert _mine(client, user)[0]["verified"] is False


def test_verify_without_a_claim_is_404(client, actions):
    user = actions.register()
    assert _verify(client, user, "github").status_code == 404


@pytest.mark.parametrize("handle", ["bob@127.0.0.1", "bob@localhost", "bob@[::1]", "bob@10.0.0.8"])
def test_instance_that_is_an_address_is_refused(client, actions, handle):
    user = actions.register()
    assert _claim(client, user, "mastodon", handle).status_code == 422


@pytest.mark.parametrize("instance", ["localhost", "127.0.0.1", "vm", "printer.local"])
def test_no_ssrf_into_the_operators_network(app, client, actions, networks, instance):
    """With the production template (``https://{instance}``), a claim whose instance is
    private (an older row, or a name resolving inside the operator's network) is never
    contacted."""
    user = actions.register()
    _claim(client, user, "mastodon", "bob@social.example")
    with app.app_context():
        db.session.execute(
            text("UPDATE identities SET handle = :h WHERE user_id = :u"),
            {"h": f"bob@{instance}", "u": user["user"]["id"]},
        )
        db.session.commit()
    app.config["MASTODON_URL_TEMPLATE"] = "https://{instance}"
    before = len(networks.requests)
    response = _verify(client, user, "mastodon")
    assert response.status_code == 422 and "not" in response.json["message"]
    assert len(networks.requests) == before
    assert _mine(client, user)[0]["verified"] is False
