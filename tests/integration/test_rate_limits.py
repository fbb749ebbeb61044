"""Rate limits: per user on writes and nearby searches; sign-in fitted to carrier-grade
NAT (registration per address with a burst, login per account plus a high per-address
ceiling, refresh per sign-in); RateLimit-* and Retry-After headers; request bodies
capped (413)."""

import time
import uuid
from collections import Counter

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


# The production budgets every other request draws on (service/config.py): the sign-in
# endpoints must not, or a carrier-grade NAT pool would share them.
PRODUCTION_BUDGETS = {"RATE_LIMIT_WRITES": "120 per minute", "RATE_LIMIT_READS": "600 per minute"}
PASSWORD = "correct horse battery"


def _users(app, count: int, password: str | None = None) -> list[dict]:
    """``count`` accounts made straight in the database (no 2,000 registrations), each
    signed in through the service's own token function."""
    from sqlalchemy import insert

    from service.auth import passwords, sessions
    from service.database import db
    from service.models import User

    password_hash = passwords.hash_password(password) if password else "not-a-hash"
    tag = uuid.uuid4().hex[:8]
    rows = [
        {
            "handle": f"n{tag}_{index}",
            "email": f"n{tag}_{index}@example.com",
            "display_name": f"N {index}",
            "password_hash": password_hash,
        }
        for index in range(count)
    ]
    with app.app_context():
        users = db.session.scalars(insert(User).returning(User), rows).all()
        signed_in = [{"handle": u.handle, **sessions.issue(db.session, u)} for u in users]
        db.session.commit()
    return signed_in


def test_registration_is_limited_per_address_with_a_burst(app, client, actions):
    app.config.update(PRODUCTION_BUDGETS, RATE_LIMIT_AUTH="3 per minute;5 per hour")
    statuses = [
        client.post(
            "/api/v1/auth/register",
            json={
                "handle": f"burst{index}",
                "email": f"burst{index}@example.com",
                "password": PASSWORD,
                "display_name": "Burst",
            },
        )
        for index in range(4)
    ]
    assert [r.status_code for r in statuses] == [201, 201, 201, 429]
    assert statuses[-1].json["code"] == 429 and 0 < int(statuses[-1].headers["Retry-After"]) <= 61
    # another address has its own burst
    other = client.post(
        "/api/v1/auth/register",
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
        json={
            "handle": "burst9",
            "email": "b9@example.com",
            "password": PASSWORD,
            "display_name": "B",
        },
    )
    assert other.status_code == 201


def test_logins_from_one_address_have_only_a_high_ceiling(app, client):
    """A NAT pool: far more people sign in from one address than any per-requester budget
    allows, each with their own account; the per-address ceiling stops a flood."""
    app.config.update(
        PRODUCTION_BUDGETS,
        RATE_LIMIT_WRITES="5 per minute",
        RATE_LIMIT_LOGIN_PER_ADDRESS="40 per minute",
    )
    people = _users(app, 41, password=PASSWORD)
    statuses = [
        client.post(
            "/api/v1/auth/login", json={"login": person["handle"], "password": PASSWORD}
        ).status_code
        for person in people
    ]
    assert statuses == [200] * 40 + [429]


def test_login_lockout_stays_per_account(app, client):
    """The per-account lockout (>10 failures in 15 minutes) is untouched by the NAT
    ceiling: one account locked does not lock its neighbours behind the same address."""
    app.config.update(PRODUCTION_BUDGETS)
    victim, neighbour = _users(app, 2, password=PASSWORD)
    for _ in range(10):
        wrong = {"login": victim["handle"], "password": "guess"}
        assert client.post("/api/v1/auth/login", json=wrong).status_code == 401
    right = {"login": victim["handle"], "password": PASSWORD}
    locked = client.post("/api/v1/auth/login", json=right)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
    mine = {"login": neighbour["handle"], "password": PASSWORD}
    assert client.post("/api/v1/auth/login", json=mine).status_code == 200


@pytest.mark.slow
def test_2000_people_refresh_from_one_address_but_one_sign_in_is_limited(app, client):
    """Carrier-grade NAT: 2,000 phones behind one address refresh within a minute and all
    succeed; one sign-in refreshed 100 times a minute (a stolen token hammered, or a
    looping app) is refused with 429 and Retry-After."""
    app.config.update(PRODUCTION_BUDGETS)
    started = time.monotonic()
    phones = _users(app, 2000)
    answers = [
        client.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
        for phone in phones
    ]
    assert Counter(a.status_code for a in answers) == {200: 2000}
    token, hammered = answers[0].json["refresh_token"], []
    for _ in range(100):
        answer = client.post("/api/v1/auth/refresh", json={"refresh_token": token})
        hammered.append(answer)
        if answer.status_code == 200:
            token = answer.json["refresh_token"]
    assert time.monotonic() - started < 60
    codes = [a.status_code for a in hammered]
    allowed = codes.count(200)
    assert 0 < allowed < 100 and codes == [200] * allowed + [429] * (100 - allowed)
    limited = hammered[-1]
    assert limited.json["code"] == 429 and 0 < int(limited.headers["Retry-After"]) <= 61
    # the limit is that sign-in's, not the address's: the other phones go on
    other = answers[1].json["refresh_token"]
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": other}).status_code == 200


def test_refresh_with_a_bad_token_is_limited_per_address(app, client):
    app.config.update(PRODUCTION_BUDGETS, RATE_LIMIT_REFRESH="3 per minute")
    codes = [
        client.post("/api/v1/auth/refresh", json={"refresh_token": f"garbage{i}"}).status_code
        for i in range(4)
    ]
    assert codes == [401, 401, 401, 429]


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
