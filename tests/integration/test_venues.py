"""Venue CRUD and who may change what."""

import pytest

NYC = (40.758, -73.9855)


def test_create_and_get(client, actions):
    user = actions.register()
    venue = actions.venue(
        user, *NYC, name="Joe's", category="Coffee Shop", address="1 Times Sq", radius_m=50
    )
    assert venue["radius_m"] == 50
    assert venue["timezone"] == "America/New_York"
    assert venue["location"] == {"lat": NYC[0], "lon": NYC[1]}
    got = client.get(f"/api/v1/venues/{venue['id']}", headers=user["headers"])
    assert got.status_code == 200
    assert got.json == venue


def test_default_radius_and_timezone_elsewhere(actions):
    user = actions.register()
    venue = actions.venue(user, 35.6595, 139.7005)
    assert venue["radius_m"] == 100
    assert venue["timezone"] == "Asia/Tokyo"


@pytest.mark.parametrize(
    "location",
    [
        {"lat": 91, "lon": 0},
        {"lat": 0, "lon": 181},
        {"lat": 0, "lon": 200},
        {"lat": "NaN", "lon": 0},
        {"lat": "north", "lon": 0},
        {"lat": None, "lon": 0},
        {"lat": 1},
        {},
        None,
        "40,-73",
        [40, -73],
        {"lat": True, "lon": 0},
        {"lat": 1, "lon": 2, "alt": 3},
    ],
)
def test_bad_locations_are_422(client, actions, location):
    user = actions.register()
    response = client.post(
        "/api/v1/venues",
        headers=user["headers"],
        json={"name": "X", "category": "Other", "location": location},
    )
    assert response.status_code == 422
    assert "location" in response.json["errors"]["json"]


def test_nan_and_infinity_literals_are_422(client, actions):
    user = actions.register()
    for literal in ("NaN", "Infinity", "-Infinity"):
        body = f'{{"name": "X", "category": "Other", "location": {{"lat": {literal}, "lon": 0}}}}'
        response = client.post(
            "/api/v1/venues", headers=user["headers"], data=body, content_type="application/json"
        )
        assert response.status_code == 422, literal


@pytest.mark.parametrize("radius", [24, 501, -1, "big"])
def test_radius_bounds(client, actions, radius):
    user = actions.register()
    response = client.post(
        "/api/v1/venues",
        headers=user["headers"],
        json={
            "name": "X",
            "category": "Other",
            "location": {"lat": 1, "lon": 1},
            "radius_m": radius,
        },
    )
    assert response.status_code == 422


def test_unknown_venue_is_404(client, actions):
    user = actions.register()
    assert client.get("/api/v1/venues/999999999", headers=user["headers"]).status_code == 404


def test_creator_edits_until_claimed_then_owner_only(app, client, actions):
    from service.database import db
    from service.models import Venue

    creator, stranger, owner = actions.register(), actions.register(), actions.register()
    venue = actions.venue(creator, *NYC)
    url = f"/api/v1/venues/{venue['id']}"
    assert client.patch(url, headers=stranger["headers"], json={"name": "Mine"}).status_code == 403
    response = client.patch(url, headers=creator["headers"], json={"name": "Renamed"})
    assert response.status_code == 200 and response.json["name"] == "Renamed"
    with app.app_context():
        db.session.get(Venue, venue["id"]).owner_id = owner["user"]["id"]
        db.session.commit()
    assert client.patch(url, headers=creator["headers"], json={"name": "X"}).status_code == 403
    response = client.patch(url, headers=owner["headers"], json={"radius_m": 200})
    assert response.status_code == 200 and response.json["owned"] is True


def test_admin_may_edit_and_delete(app, client, actions, runner):
    creator, admin = actions.register(), actions.register("root_admin")
    result = runner.invoke(args=["make-admin", "root_admin"])
    assert "now an admin" in result.output
    venue = actions.venue(creator, *NYC)
    url = f"/api/v1/venues/{venue['id']}"
    assert client.patch(url, headers=admin["headers"], json={"name": "Fixed"}).status_code == 200
    assert client.delete(url, headers=admin["headers"]).status_code == 204
    assert client.get(url, headers=admin["headers"]).status_code == 404


def test_patch_location_moves_timezone(client, actions):
    user = actions.register()
    venue = actions.venue(user, *NYC)
    response = client.patch(
        f"/api/v1/venues/{venue['id']}",
        headers=user["headers"],
        json={"location": {"lat": 51.5007, "lon": -0.1246}},
    )
    assert response.status_code == 200
    assert response.json["timezone"] == "Europe/London"
    assert response.json["location"] == {"lat": 51.5007, "lon": -0.1246}


def test_patch_validation_changes_nothing(client, actions):
    user = actions.register()
    venue = actions.venue(user, *NYC)
    url = f"/api/v1/venues/{venue['id']}"
    for body in (
        {"location": {"lat": 95, "lon": 0}},
        {"radius_m": 1000},
        {"id": 5},
        {"timezone": "UTC"},
    ):
        assert client.patch(url, headers=user["headers"], json=body).status_code == 422
    assert client.get(url, headers=user["headers"]).json == venue


def test_deleted_venue_disappears_from_nearby_and_checkins(client, actions):
    user = actions.register()
    venue = actions.venue(user, *NYC)
    assert (
        client.delete(f"/api/v1/venues/{venue['id']}", headers=user["headers"]).status_code == 204
    )
    nearby = client.get(
        "/api/v1/venues/nearby",
        headers=user["headers"],
        query_string={"lat": NYC[0], "lon": NYC[1]},
    )
    assert venue["id"] not in [item["id"] for item in nearby.json["items"]]
    assert actions.check_in(user, venue).status_code == 404


def test_requires_token(client):
    assert client.post("/api/v1/venues", json={}).status_code == 401
    assert client.get("/api/v1/venues/nearby?lat=0&lon=0").status_code == 401
