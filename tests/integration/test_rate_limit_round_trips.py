"""Every budget a request draws on is counted before its view, in one round trip to the
store; a store that is down serves requests, counted in process until it answers."""

import logging
import uuid

import pytest
from limits import parse
from limits.storage import storage_from_string

from service.ratelimit import AppRateLimits, key_prefix, limiter

HERE = {"lat": 45.4642, "lon": 9.19}
REDIS_URL = "redis://127.0.0.1:6379/15"


def _use_store(app, monkeypatch, uri: str, **options):
    """Count the app's requests in the store at ``uri`` for this test."""
    storage = storage_from_string(uri, **options)
    exempt = app.extensions["irl_rate_limits"].exempt
    monkeypatch.setitem(app.extensions, "irl_rate_limits", AppRateLimits(storage, exempt))
    return storage


def _commands(storage, monkeypatch) -> list:
    """The commands the app sends to ``storage`` from now on (one per round trip)."""
    connection, sent = storage.get_connection(), []
    real = connection.execute_command
    monkeypatch.setattr(
        connection, "execute_command", lambda *a, **k: sent.append(a[0]) or real(*a, **k)
    )
    return sent


@pytest.fixture
def redis_store(app, monkeypatch):
    """The app counting in a Redis namespace of its own (skipped without Redis)."""
    prefix = f"LIMITS:irl-round-trips-{uuid.uuid4().hex[:8]}"
    storage = _use_store(app, monkeypatch, REDIS_URL, key_prefix=prefix, socket_connect_timeout=1)
    if not storage.check():
        pytest.skip("no Redis on 127.0.0.1:6379")
    yield storage
    storage.reset()


def test_a_nearby_search_counts_all_its_budgets_in_one_round_trip(
    app, client, actions, redis_store, monkeypatch
):
    app.config.update(RATE_LIMIT_NEARBY="7 per minute", RATE_LIMIT_READS="50 per minute")
    user = actions.register()
    sent = _commands(redis_store, monkeypatch)
    answer = client.get("/api/v1/venues/nearby", headers=user["headers"], query_string=HERE)
    assert answer.status_code == 200 and len(sent) == 1
    assert answer.headers["RateLimit-Limit"] == "7" and answer.headers["RateLimit-Remaining"] == "6"
    assert 0 < int(answer.headers["RateLimit-Reset"]) <= 60
    # both budgets were counted: the shared nearby one and the endpoint's read budget
    prefix, who = key_prefix(app.config), f"user:{user['user']['id']}"
    nearby = parse("7 per minute").key_for(prefix, who, "nearby")
    reads = parse("50 per minute").key_for(prefix, who, "venues.NearbyVenues")
    assert redis_store.get(nearby) == 1 and redis_store.get(reads) == 1


def test_a_write_counts_its_budgets_in_one_round_trip(client, actions, redis_store, monkeypatch):
    user = actions.register()
    sent = _commands(redis_store, monkeypatch)
    answer = client.patch("/api/v1/me", headers=user["headers"], json={"display_name": "A"})
    assert answer.status_code == 200 and len(sent) == 1


def test_a_malformed_nearby_search_draws_on_the_nearby_budget(app, client, actions):
    """Budgets are counted before the view: a probe cannot ask questions for free by
    getting some of them refused."""
    app.config.update(RATE_LIMIT_NEARBY="2 per minute")
    user = actions.register()
    bad = client.get("/api/v1/venues/nearby", headers=user["headers"], query_string={"lat": 100})
    assert bad.status_code == 422 and bad.headers["RateLimit-Remaining"] == "1"
    good = client.get("/api/v1/venues/nearby", headers=user["headers"], query_string=HERE)
    assert good.status_code == 200 and good.headers["RateLimit-Remaining"] == "0"
    refused = client.get("/api/v1/events/nearby", headers=user["headers"], query_string=HERE)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


def test_a_refused_burst_does_not_use_up_the_longer_window(app, client):
    app.config.update(RATE_LIMIT_AUTH="2 per minute;5 per hour")
    codes = []
    for index in range(4):
        handle = f"burst{uuid.uuid4().hex[:8]}{index}"
        body = {"handle": handle, "email": f"{handle}@example.com"}
        body |= {"password": "correct horse battery", "display_name": "B"}
        codes.append(client.post("/api/v1/auth/register", json=body).status_code)
    assert codes == [201, 201, 429, 429]
    with app.app_context():
        hourly = parse("5 per hour").key_for(key_prefix(app.config), "127.0.0.1", "register")
        assert limiter.storage.get(hourly) == 2


def test_a_store_that_is_down_serves_and_counts_in_process(
    app, client, actions, monkeypatch, caplog
):
    app.config.update(RATE_LIMIT_NEARBY="2 per minute")
    user = actions.register()
    _use_store(app, monkeypatch, "redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    with caplog.at_level(logging.WARNING, logger="service.ratelimit"):
        codes = [
            client.get("/api/v1/nearby/contacts", headers=user["headers"], query_string=HERE)
            for _ in range(3)
        ]
    assert [c.status_code for c in codes] == [200, 200, 429]
    assert codes[0].headers["RateLimit-Limit"] == "2"
    assert int(codes[-1].headers["Retry-After"]) >= 1
    # one warning, not one per request: the store is tried again after a pause
    assert len([r for r in caplog.records if "unreachable" in r.message]) == 1
