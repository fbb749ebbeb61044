"""Verifying an identity by signing in with the network (OAuth 2 code + PKCE), end to end
against a local Authlib authorization server: authorize URL → sign in at the provider →
the provider's redirect to IRL's callback → the claimant finishes → verified."""

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import oauth_sign_in


def _finish(client, user, network, answer):
    return client.post(
        f"/api/v1/me/identities/{network}/verify",
        headers=user["headers"],
        json={"state": answer["state"], "completion": answer["completion"]},
    )


def _mine(client, user):
    return client.get("/api/v1/me/identities", headers=user["headers"]).json["items"]


@pytest.mark.parametrize(
    ("network", "account", "name"),
    [
        ("twitter", "Jack_IRL", "Jack_Irl"),
        ("github", "octo-cat", "Octo-Cat"),
        ("linkedin", "jane-doe-42", "Jane-Doe-42 Example"),
        ("instagram", "jane.pics", None),
    ],
)
def test_sign_in_verifies_the_account_the_provider_names(client, actions, network, account, name):
    user = actions.register()
    started = client.get(f"/api/v1/me/identities/{network}/authorize", headers=user["headers"])
    url = urlsplit(started.json["authorize_url"])
    query = parse_qs(url.query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["state"] == [started.json["state"]]
    assert query["redirect_uri"] == [f"http://localhost/api/v1/identities/{network}/callback"]

    answer = oauth_sign_in(client, user, network, account)
    assert answer.status_code == 200, answer.json
    assert answer.json["handle"] == account.lower()
    finished = _finish(client, user, network, answer.json)
    assert finished.status_code == 200, finished.json
    assert finished.json["handle"] == account.lower() and finished.json["verified"] is True
    assert finished.json["display_name"] == name
    assert [(i["network"], i["verified"]) for i in _mine(client, user)] == [(network, True)]


def test_sign_in_replaces_an_unverified_claim_of_another_handle(client, actions):
    user = actions.register()
    client.put("/api/v1/me/identities/twitter", headers=user["headers"], json={"handle": "typo"})
    answer = oauth_sign_in(client, user, "twitter", "real_me").json
    assert _finish(client, user, "twitter", answer).json["handle"] == "real_me"
    assert [i["handle"] for i in _mine(client, user)] == ["real_me"]


def test_replayed_state_is_refused(client, actions):
    user = actions.register()
    started = client.get("/api/v1/me/identities/github/authorize", headers=user["headers"])
    at_provider = httpx.post(started.json["authorize_url"], data={"username": "octo"})
    callback = at_provider.headers["location"].removeprefix("http://localhost")
    first = client.get(callback)
    assert first.status_code == 200
    replay = client.get(callback)
    assert replay.status_code == 422 and "start again" in replay.json["message"]
    assert _finish(client, user, "github", first.json).status_code == 200
    assert _finish(client, user, "github", first.json).status_code == 404  # used once


def test_foreign_state_cannot_verify_a_victims_account(client, actions):
    """Account-linking CSRF: the attacker starts a sign-in and lures the victim through
    it; the victim signs in at the provider as themself. The attacker holds the state but
    never the completion; the victim's app holds a completion for a state not theirs."""
    attacker, victim = actions.register(), actions.register()
    started = client.get("/api/v1/me/identities/twitter/authorize", headers=attacker["headers"])
    at_provider = httpx.post(started.json["authorize_url"], data={"username": "victim_tw"})
    landed = client.get(at_provider.headers["location"].removeprefix("http://localhost")).json
    guessed = {"state": started.json["state"], "completion": "x" * 43}
    assert _finish(client, attacker, "twitter", guessed).status_code == 404
    assert _finish(client, victim, "twitter", landed).status_code == 404
    assert _mine(client, attacker) == [] and _mine(client, victim) == []


def test_state_of_another_network_or_unknown_is_refused(client, actions):
    user = actions.register()
    started = client.get("/api/v1/me/identities/github/authorize", headers=user["headers"])
    at_provider = httpx.post(started.json["authorize_url"], data={"username": "octo"})
    query = urlsplit(at_provider.headers["location"]).query
    other = client.get(f"/api/v1/identities/twitter/callback?{query}")
    assert other.status_code == 422
    unknown = client.get("/api/v1/identities/github/callback?state=nope&code=abc")
    assert unknown.status_code == 422
    assert _mine(client, user) == []


def test_declined_sign_in_changes_nothing(client, actions):
    user = actions.register()
    declined = oauth_sign_in(client, user, "instagram", "someone", deny=True)
    assert declined.status_code == 422 and "not completed" in declined.json["message"]
    assert _mine(client, user) == []


def test_expired_sign_in_is_refused(client, actions, frozen_clock):
    user = actions.register()
    started = client.get("/api/v1/me/identities/github/authorize", headers=user["headers"])
    at_provider = httpx.post(started.json["authorize_url"], data={"username": "octo"})
    frozen_clock.advance(minutes=11)
    late = client.get(at_provider.headers["location"].removeprefix("http://localhost"))
    assert late.status_code == 422 and "expired" in late.json["message"]


def test_code_from_another_client_is_refused_by_the_provider(client, actions):
    """PKCE: a code obtained for one sign-in cannot be redeemed in another."""
    user = actions.register()
    first = client.get("/api/v1/me/identities/github/authorize", headers=user["headers"]).json
    second = client.get("/api/v1/me/identities/github/authorize", headers=user["headers"]).json
    at_provider = httpx.post(first["authorize_url"], data={"username": "octo"})
    code = parse_qs(urlsplit(at_provider.headers["location"]).query)["code"][0]
    swapped = client.get(f"/api/v1/identities/github/callback?state={second['state']}&code={code}")
    assert swapped.status_code == 422 and "refused" in swapped.json["message"]
    assert _mine(client, user) == []


def test_unconfigured_provider_is_422(app, client, actions):
    user = actions.register()
    app.config["OAUTH_LINKEDIN_CLIENT_ID"] = ""
    response = client.get("/api/v1/me/identities/linkedin/authorize", headers=user["headers"])
    assert response.status_code == 422 and "not configured" in response.json["message"]
    assert client.get("/api/v1/me/identities/mastodon/authorize").status_code == 404


def test_done_url_sends_the_browser_back_to_the_app(app, client, actions):
    user = actions.register()
    app.config["OAUTH_DONE_URL"] = "irl://identities/done"
    started = client.get("/api/v1/me/identities/github/authorize", headers=user["headers"])
    at_provider = httpx.post(started.json["authorize_url"], data={"username": "octo"})
    back = client.get(at_provider.headers["location"].removeprefix("http://localhost"))
    assert back.status_code == 302
    sent = parse_qs(urlsplit(back.headers["location"]).fragment)
    assert back.headers["location"].startswith("irl://identities/done#")
    answer = {"state": sent["state"][0], "completion": sent["completion"][0]}
    assert _finish(client, user, "github", answer).json["verified"] is True
