"""Messages a person can act on (issue 17): what to send instead, and when it will work."""

import io
from datetime import datetime, timedelta, timezone

from geo import rules

HERE = (48.8566, 2.3522)  # Paris


def test_an_unknown_network_is_422_naming_the_networks(client, actions):
    user = actions.register()
    for method, path in (
        ("put", "/api/v1/me/identities/myspace"),
        ("delete", "/api/v1/me/identities/myspace"),
        ("post", "/api/v1/me/identities/myspace/verify"),
    ):
        response = getattr(client, method)(path, headers=user["headers"], json={"handle": "x"})
        assert response.status_code == 422, (path, response.json)
        assert "github" in response.json["message"], response.json
    response = client.post(
        "/api/v1/me/contacts/import",
        headers=user["headers"],
        data={"network": "myspace", "file": (io.BytesIO(b"someone\n"), "follows.txt")},
    )
    assert response.status_code == 422 and "twitter" in str(response.json["errors"])


def test_the_known_networks_still_route(client, actions):
    user = actions.register()
    response = client.put(
        "/api/v1/me/identities/github", headers=user["headers"], json={"handle": "octocat"}
    )
    assert response.status_code in (200, 201), response.json
    spec = client.get("/api/v1/openapi.json").json
    identity = spec["paths"]["/api/v1/me/identities/{network}"]
    (parameter,) = identity["parameters"]
    assert "twitter" in parameter["schema"]["enum"]
    assert "422" in identity["delete"]["responses"]


def test_a_time_without_offset_says_how_to_write_one(client, actions):
    user = actions.register()
    venue = actions.venue(user, *HERE)
    response = actions.check_in(user, venue, client_time="2026-12-06T18:00:00")
    assert response.status_code == 422
    (message,) = response.json["errors"]["json"]["client_time"]
    assert "2026-12-06T18:00:00+01:00" in message and "UTC offset" in message


def test_too_soon_says_when_the_next_checkin_counts(actions, frozen_clock):
    user = actions.register()
    venue = actions.venue(user, *HERE)
    assert actions.check_in(user, venue).status_code == 201
    frozen_clock.advance(minutes=20)
    response = actions.check_in(user, venue)
    (reason,) = response.json["rewards"]["reasons"]
    expected = (frozen_clock.current + timedelta(minutes=60)).isoformat()
    assert reason["code"] == "too_soon"
    assert reason["details"]["next_counts_at"] == expected
    assert expected in reason["message"]


def test_too_soon_counts_from_the_later_of_the_two():
    """An offline check-in replayed before a later one: the later one starts the hour."""
    at = datetime(2026, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    reason = rules.too_soon(at, at + timedelta(minutes=10))
    assert reason.details["next_counts_at"] == "2026-05-01T13:10:00+00:00"


def test_json_nested_too_deep_says_so(client, actions):
    user = actions.register()
    response = client.post(
        "/api/v1/venues",
        headers=user["headers"],
        data="[" * 100000,
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "nested too deeply" in response.json["message"]


def test_the_413_states_the_limit(client, actions):
    user = actions.register()
    response = client.post(
        "/api/v1/venues",
        headers=user["headers"],
        data="x" * (1024 * 1024 + 1),
        content_type="application/json",
    )
    assert response.status_code == 413
    assert "1 MiB" in response.json["message"]


def test_the_docs_with_a_trailing_slash(client):
    response = client.get("/api/docs/")
    assert response.status_code == 308 and response.headers["Location"].endswith("/api/docs")
    assert client.get("/api/docs/", follow_redirects=True).status_code == 200
