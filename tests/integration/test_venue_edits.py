"""Editing a venue others' history depends on: who may, what a move carries, what it may
not change; and events at deleted venues or stretched past 31 days."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import offset_point

NYC = (40.7484, -73.9857)
LONDON = {"lat": 51.5007, "lon": -0.1246}
T0 = datetime(2026, 9, 10, 18, 0, tzinfo=UTC)


@pytest.fixture
def admin(actions, runner):
    person = actions.register()
    result = runner.invoke(args=["make-admin", person["user"]["handle"]])
    assert result.exit_code == 0, result.output
    return person


def _event(client, user, venue, start=T0, hours=3):
    response = client.post(
        "/api/v1/events",
        headers=user["headers"],
        json={
            "title": "Tweetup",
            "venue_id": venue["id"],
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=hours)).isoformat(),
        },
    )
    assert response.status_code == 201, response.json
    return response.json


def _nearby_events(client, user, lat, lon):
    response = client.get(
        "/api/v1/events/nearby",
        headers=user["headers"],
        query_string={
            "lat": lat,
            "lon": lon,
            "radius_m": 500,
            "from": (T0 - timedelta(days=1)).isoformat(),
            "to": (T0 + timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def test_a_move_within_the_zone_moves_its_events(client, actions):
    creator = actions.register()
    venue = actions.venue(creator, *NYC)
    event = _event(client, creator, venue)
    actions.check_in(creator, venue)  # my own check-in: still mine to move, same zone
    lat, lon = offset_point(NYC, 3000, 0)
    response = client.patch(
        f"/api/v1/venues/{venue['id']}",
        headers=creator["headers"],
        json={"location": {"lat": lat, "lon": lon}},
    )
    assert response.status_code == 200, response.json
    moved = client.get(f"/api/v1/events/{event['id']}", headers=creator["headers"]).json
    assert moved["location"] == pytest.approx({"lat": lat, "lon": lon})
    assert moved["venue"]["location"] == moved["location"]
    assert _nearby_events(client, creator, lat, lon) == [event["id"]]
    assert _nearby_events(client, creator, *NYC) == []


def test_a_move_to_another_zone_is_refused_once_checked_in(client, actions, admin):
    creator = actions.register()
    venue = actions.venue(creator, *NYC)
    assert actions.check_in(creator, venue).status_code == 201
    url = f"/api/v1/venues/{venue['id']}"
    for person in (creator, admin):
        response = client.patch(url, headers=person["headers"], json={"location": LONDON})
        assert response.status_code == 422, response.json
        assert "America/New_York" in response.json["message"]
        assert "new venue" in response.json["message"]
    assert client.get(url, headers=creator["headers"]).json == venue


def test_creator_edits_only_until_someone_else_checks_in(app, client, actions, admin):
    from service.database import db
    from service.models import Venue

    creator, visitor, owner = actions.register(), actions.register(), actions.register()
    venue = actions.venue(creator, *NYC)
    url = f"/api/v1/venues/{venue['id']}"
    assert actions.check_in(creator, venue).status_code == 201
    assert client.patch(url, headers=creator["headers"], json={"name": "Mine"}).status_code == 200
    assert actions.check_in(visitor, venue).status_code == 201
    nudge = {"location": {"lat": NYC[0] + 0.001, "lon": NYC[1]}}
    for body in ({"name": "Still mine"}, nudge):
        response = client.patch(url, headers=creator["headers"], json=body)
        assert response.status_code == 403, response.json
        assert "someone else has checked in" in response.json["message"]
    assert client.delete(url, headers=creator["headers"]).status_code == 403
    assert client.patch(url, headers=admin["headers"], json=nudge).status_code == 200
    with app.app_context():
        db.session.get(Venue, venue["id"]).owner_id = owner["user"]["id"]
        db.session.commit()
    assert client.patch(url, headers=owner["headers"], json={"name": "Owned"}).status_code == 200
    assert client.delete(url, headers=owner["headers"]).status_code == 204


def test_events_at_a_deleted_venue_leave_the_nearby_search(client, actions):
    creator = actions.register()
    venue = actions.venue(creator, *NYC)
    other = actions.venue(creator, *offset_point(NYC, 100, 90))
    gone, kept = _event(client, creator, venue), _event(client, creator, other)
    assert sorted(_nearby_events(client, creator, *NYC)) == sorted([gone["id"], kept["id"]])
    deleted = client.delete(f"/api/v1/venues/{venue['id']}", headers=creator["headers"])
    assert deleted.status_code == 204
    assert _nearby_events(client, creator, *NYC) == [kept["id"]]


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [
        ("ends_at", T0 + timedelta(days=31, seconds=1), 422),
        ("starts_at", T0 + timedelta(hours=3) - timedelta(days=31, seconds=1), 422),
        ("ends_at", T0 + timedelta(days=31), 200),
        ("starts_at", T0 + timedelta(hours=3) - timedelta(days=31), 200),
    ],
)
def test_an_event_lasts_at_most_31_days_whichever_end_moves(client, actions, field, value, status):
    creator = actions.register()
    event = _event(client, creator, actions.venue(creator, *NYC))
    url = f"/api/v1/events/{event['id']}"
    response = client.patch(url, headers=creator["headers"], json={field: value.isoformat()})
    assert response.status_code == status, response.json
    if status == 422:
        assert "31 days" in response.json["message"]
        assert client.get(url, headers=creator["headers"]).json == event
