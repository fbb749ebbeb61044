"""Rate limits: per user on writes and nearby searches, per address on sign-in, with
RateLimit-* and Retry-After headers; request bodies capped (413)."""

import pytest

from tests.conftest import offset_point

HERE = (45.4642, 9.19)  # Milan


@pytest.fixture
def tight(app):
    app.config.update(
        RATE_LIMIT_WRITES="5 per minute",
        RATE_LIMIT_NEARBY="3 per minute",
        RATE_LIMIT_AUTH="4 per minute",
        RATE_LIMIT_READS="50 per minute",
    )
    return app


def test_writes_are_limited_per_user_across_endpoints(client, actions, tight):
    user, other = actions.register(), actions.register()
    statuses = []
    for index in range(3):
        statuses.append(
            client.post(
                "/api/v1/venues",
                headers=user["headers"],
                json={
                    "name": f"V{index}",
                    "category": "Bar",
                    "location": {"lat": 45.0, "lon": 9.0},
                },
            ).status_code
        )
        statuses.append(
            client.post(
                "/api/v1/me/devices",
                headers=user["headers"],
                json={"platform": "ios", "token": f"t{index}"},
            ).status_code
        )
    assert statuses[:5] == [201] * 5 and statuses[5] == 429
    limited = client.patch("/api/v1/me", headers=user["headers"], json={"display_name": "X"})
    assert limited.status_code == 429
    assert limited.json["code"] == 429 and limited.json["message"]
    assert 0 < int(limited.headers["Retry-After"]) <= 61
    # reads go on, and another person's budget is their own
    assert client.get("/api/v1/me", headers=user["headers"]).status_code == 200
    assert (
        client.patch("/api/v1/me", headers=other["headers"], json={"display_name": "Y"}).status_code
        == 200
    )


def test_nearby_searches_share_one_budget_with_headers(client, actions, tight):
    user = actions.register()
    query = {"lat": HERE[0], "lon": HERE[1]}
    paths = ["/api/v1/venues/nearby", "/api/v1/nearby/contacts", "/api/v1/events/nearby"]
    answers = [client.get(p, headers=user["headers"], query_string=query) for p in paths]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].headers["RateLimit-Limit"] == "3"
    assert answers[-1].headers["RateLimit-Remaining"] == "0"
    assert 0 <= int(answers[-1].headers["RateLimit-Reset"]) <= 61
    fourth = client.get(paths[0], headers=user["headers"], query_string=query)
    assert fourth.status_code == 429 and int(fourth.headers["Retry-After"]) >= 1
    # other reads are not nearby searches
    assert client.get("/api/v1/me", headers=user["headers"]).status_code == 200


def test_sign_in_is_limited_per_address(client, actions, tight):
    user = actions.register()  # registration counts too
    login = {"login": user["user"]["handle"], "password": "correct horse battery"}
    statuses = [client.post("/api/v1/auth/login", json=login).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_identity_checks_have_their_own_small_budget(app, client, actions, networks):
    """Each verification makes IRL call a network: a user cannot make it hammer one."""
    app.config.update(RATE_LIMIT_IDENTITY_CHECKS="3 per minute")
    user = actions.register()
    client.put("/api/v1/me/identities/github", headers=user["headers"], json={"handle": "gh-x"})
    before = len(networks.requests)
    paths = ["/api/v1/me/identities/github/verify"] * 2 + ["/api/v1/me/identities/github/authorize"]
    for path in paths:
        call = client.post if path.endswith("verify") else client.get
        assert call(path, headers=user["headers"]).status_code in (200, 422)
    limited = client.post("/api/v1/me/identities/github/verify", headers=user["headers"])
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert len(networks.requests) == before + 2
    assert client.get("/api/v1/me/identities", headers=user["headers"]).status_code == 200


def test_request_bodies_are_capped(client, actions):
    user = actions.register()
    response = client.post(
        "/api/v1/me/contacts/import",
        headers={**user["headers"], "Content-Type": "application/json"},
        data=b'{"network": "twitter", "handles": ["' + b"a" * (2 * 1024 * 1024) + b'"]}',
    )
    assert response.status_code == 413 and response.json["message"]


def test_operations_endpoints_are_never_limited(client, tight):
    for _ in range(60):
        assert client.get("/healthz").status_code == 200


def test_rate_limited_checkins_still_say_why(client, actions, app):
    app.config["CHECKINS_PER_HOUR"] = 2
    user = actions.register()
    venues = [actions.venue(user, *offset_point(HERE, 200 * i)) for i in range(3)]
    statuses = [actions.check_in(user, venue).status_code for venue in venues]
    assert statuses == [201, 201, 429]
