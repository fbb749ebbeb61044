"""Check-in input validation, rate limit, idempotency and who sees what."""

import pytest

HOME = (40.758, -73.9855)


@pytest.fixture
def user(actions):
    return actions.register()


@pytest.fixture
def venue(actions, user):
    return actions.venue(user, *HOME)


def _count(client, user):
    return len(
        client.get(
            "/api/v1/me/checkins", headers=user["headers"], query_string={"limit": 100}
        ).json["items"]
    )


@pytest.mark.parametrize(
    "body",
    [
        {"venue_id": "1", "location": {"lat": 0, "lon": 0}},
        {"venue_id": 1},
        {"location": {"lat": 0, "lon": 0}},
        {"venue_id": 1, "location": {"lat": 0, "lon": 0}, "shout": "x" * 141},
        {"venue_id": 1, "location": {"lat": 0, "lon": 0}, "accuracy_m": -1},
        {"venue_id": 1, "location": {"lat": 0, "lon": 0}, "accuracy_m": "NaN"},
        {"venue_id": 1, "location": {"lat": 0, "lon": 0}, "private": "yes please"},
        {"venue_id": 1, "location": {"lat": 0, "lon": 0}, "unknown": True},
        {"venue_id": 1, "location": {"lat": -91, "lon": 0}},
        {"venue_id": 1, "location": {"lat": 0, "lon": 180.0001}},
        {"venue_id": 1, "location": {"lat": 0, "lon": 0}, "client_time": "yesterday"},
        {"venue_id": 0, "location": {"lat": 0, "lon": 0}},
    ],
)
def test_bad_bodies_are_422_and_store_nothing(client, user, venue, body):
    body = {**body, "venue_id": venue["id"]} if body.get("venue_id") == 1 else body
    response = client.post("/api/v1/checkins", json=body, headers=user["headers"])
    assert response.status_code == 422, response.json
    assert response.json["errors"]
    assert _count(client, user) == 0


def test_malformed_json_is_400(client, user):
    response = client.post(
        "/api/v1/checkins",
        data='{"venue_id": 1,',
        content_type="application/json",
        headers=user["headers"],
    )
    assert response.status_code == 400


def test_unknown_venue_is_404(client, user):
    response = client.post(
        "/api/v1/checkins",
        headers=user["headers"],
        json={"venue_id": 987654321, "location": {"lat": 0, "lon": 0}},
    )
    assert response.status_code == 404


def test_shout_at_140_chars(actions, user, venue):
    assert actions.check_in(user, venue, shout="x" * 140).status_code == 201


def test_more_than_30_an_hour_is_429(client, actions, user, venue, frozen_clock):
    for _ in range(30):
        assert actions.check_in(user, venue).status_code == 201
        frozen_clock.advance(seconds=10)
    response = actions.check_in(user, venue)
    assert response.status_code == 429
    retry_after = int(response.headers["Retry-After"])
    assert 3300 <= retry_after <= 3601
    assert _count(client, user) == 30
    frozen_clock.advance(seconds=retry_after)
    assert actions.check_in(user, venue).status_code == 201


def test_checkin_is_visible_to_its_owner_only(client, actions, user, venue):
    stranger = actions.register()
    checkin = actions.check_in(user, venue).json["checkin"]
    mine = client.get(f"/api/v1/checkins/{checkin['id']}", headers=user["headers"])
    assert mine.status_code == 200 and mine.json["id"] == checkin["id"]
    assert mine.json["location"] == {"lat": HOME[0], "lon": HOME[1]}
    theirs = client.get(f"/api/v1/checkins/{checkin['id']}", headers=stranger["headers"])
    assert theirs.status_code == 404
    assert theirs.json["message"] == "No such check-in."
    unknown = client.get("/api/v1/checkins/99999999", headers=stranger["headers"])
    assert unknown.json == theirs.json


def test_my_checkins_paginate_newest_first(client, actions, user, venue, frozen_clock):
    for _ in range(25):
        actions.check_in(user, venue)
        frozen_clock.advance(minutes=1)
    stranger = actions.register()
    actions.check_in(stranger, venue)
    seen, cursor = [], None
    while True:
        params = {"limit": 10, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/me/checkins", headers=user["headers"], query_string=params).json
        seen += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 25 == len({item["id"] for item in seen})
    times = [item["effective_at"] for item in seen]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"cursor": "%%%"},
        {"cursor": "WzEsMl0"},
        {"cursor": "WyJ4IiwxXQ"},
    ],
)
def test_my_checkins_bad_paging_is_422(client, user, params):
    response = client.get("/api/v1/me/checkins", headers=user["headers"], query_string=params)
    assert response.status_code == 422


class TestIdempotency:
    def test_same_key_same_body_replays(self, client, actions, user, venue):
        key = {"Idempotency-Key": "phone-retry-1"}
        first = actions.check_in(user, venue, headers=key, shout="once")
        second = actions.check_in(user, venue, headers=key, shout="once")
        assert first.status_code == second.status_code == 201
        assert second.json == first.json
        assert second.headers["Idempotent-Replayed"] == "true"
        assert _count(client, user) == 1
        assert client.get("/api/v1/me", headers=user["headers"]).json["points"] == 15

    def test_same_key_different_body_is_422(self, client, actions, user, venue):
        key = {"Idempotency-Key": "phone-retry-2"}
        assert actions.check_in(user, venue, headers=key, shout="a").status_code == 201
        response = actions.check_in(user, venue, headers=key, shout="b")
        assert response.status_code == 422
        assert "different request" in response.json["message"]
        assert _count(client, user) == 1

    def test_keys_are_scoped_to_the_user(self, client, actions, user, venue):
        other = actions.register()
        key = {"Idempotency-Key": "shared-key"}
        assert actions.check_in(user, venue, headers=key).status_code == 201
        response = actions.check_in(other, venue, headers=key)
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response.headers
        assert _count(client, other) == 1

    def test_key_length(self, client, actions, user, venue):
        assert (
            actions.check_in(user, venue, headers={"Idempotency-Key": "k" * 255}).status_code == 201
        )
        response = actions.check_in(user, venue, headers={"Idempotency-Key": "k" * 256})
        assert response.status_code == 422
        assert _count(client, user) == 1

    def test_failed_request_does_not_burn_the_key(self, client, actions, user, venue):
        key = {"Idempotency-Key": "retry-after-fix"}
        # an error is not remembered: the corrected request may reuse the key
        bad = client.post(
            "/api/v1/checkins",
            headers={**user["headers"], **key},
            json={"venue_id": 987654321, "location": {"lat": 0, "lon": 0}},
        )
        assert bad.status_code == 404
        again = client.post(
            "/api/v1/checkins",
            headers={**user["headers"], **key},
            json={"venue_id": 987654321, "location": {"lat": 0, "lon": 0}},
        )
        assert again.status_code == 404
        fixed = actions.check_in(user, venue, headers=key)
        assert fixed.status_code == 201
        assert "Idempotent-Replayed" not in fixed.headers

    def test_keys_expire_after_24_hours(self, client, actions, user, venue, frozen_clock):
        key = {"Idempotency-Key": "old-key"}
        assert actions.check_in(user, venue, headers=key).status_code == 201
        frozen_clock.advance(hours=24, seconds=1)
        response = actions.check_in(user, venue, headers=key)
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response.headers
        assert _count(client, user) == 2


def test_deadlock_is_retried_invisibly(client, actions, user, venue, monkeypatch):
    from psycopg import errors as pg_errors
    from sqlalchemy.exc import OperationalError

    from service.checkins import routes

    real = routes.service.check_in
    calls = []

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            real(**kwargs)  # do the work, then collide: it must all roll back
            raise OperationalError("INSERT", {}, pg_errors.DeadlockDetected())
        return real(**kwargs)

    monkeypatch.setattr(routes.service, "check_in", flaky)
    response = actions.check_in(user, venue)
    assert response.status_code == 201 and len(calls) == 2
    assert response.json["rewards"]["points"] == 15
    assert _count(client, user) == 1


def test_any_write_is_rerun_after_a_serialization_failure(client, actions, monkeypatch):
    from psycopg import errors as pg_errors
    from sqlalchemy.exc import OperationalError

    from service.users import routes

    person = actions.register()
    real = routes.service.update_settings
    calls = []

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("UPDATE", {}, pg_errors.SerializationFailure())
        return real(**kwargs)

    monkeypatch.setattr(routes.service, "update_settings", flaky)
    response = client.patch("/api/v1/me", headers=person["headers"], json={"display_name": "Z"})
    assert response.status_code == 200 and response.json["display_name"] == "Z"
    assert len(calls) == 2
