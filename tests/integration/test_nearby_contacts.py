"""Nearby contacts, shaped by each contact's sharing (the trilateration attack lives in
test_privacy_regression.py)."""

import pytest
from geographiclib.geodesic import Geodesic

from tests.conftest import offset_point

pytestmark = pytest.mark.usefixtures("no_positions_or_tokens_in_logs")

WGS84 = Geodesic.WGS84
HERE = (40.7306, -73.9866)


def _nearby(client, user, lat=HERE[0], lon=HERE[1], **params):
    response = client.get(
        "/api/v1/nearby/contacts",
        headers=user["headers"],
        query_string={"lat": lat, "lon": lon, **params},
    )
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_exact_contact_with_venue_and_distance_to_100_m(client, actions, friends):
    a, b = friends(2)
    venue = actions.venue(a, *offset_point(HERE, 640))
    actions.check_in(a, venue)
    items = _nearby(client, b)
    assert len(items) == 1
    item = items[0]
    assert item["user"]["handle"] == a["user"]["handle"]
    assert item["venue"]["id"] == venue["id"] and item["sharing"] == "exact"
    assert item["distance_m"] == 600
    assert item["last_seen_at"]


def test_approximate_contact_without_venue_rounded_to_500(client, actions, friends):
    a, b = friends(2)
    client.patch("/api/v1/me", headers=a["headers"], json={"location_sharing": "approximate"})
    venue = actions.venue(a, *offset_point(HERE, 900))
    actions.check_in(a, venue)
    items = _nearby(client, b, radius_m=5000)
    assert len(items) == 1
    item = items[0]
    assert item["venue"] is None and item["sharing"] == "approximate"
    assert item["distance_m"] % 500 == 0
    snapped = item["location"]
    true_gap = WGS84.Inverse(snapped["lat"], snapped["lon"], *offset_point(HERE, 900))["s12"]
    assert 0 < true_gap < 1500
    # the same question always gets the same answer
    assert _nearby(client, b, radius_m=5000) == items


def test_three_hour_boundary(client, actions, friends, frozen_clock):
    a, b = friends(2)
    venue = actions.venue(a, *HERE)
    actions.check_in(a, venue)
    frozen_clock.advance(hours=3)
    assert len(_nearby(client, b)) == 1
    frozen_clock.advance(seconds=1)
    assert _nearby(client, b) == []


def test_radius(client, actions, friends):
    a, b = friends(2)
    actions.check_in(a, actions.venue(a, *offset_point(HERE, 1200)))
    assert _nearby(client, b, radius_m=1000) == []
    assert len(_nearby(client, b, radius_m=1300)) == 1


def test_latest_visible_checkin_counts(client, actions, friends, frozen_clock):
    a, b = friends(2)
    near = actions.venue(a, *offset_point(HERE, 100))
    far = actions.venue(a, *offset_point(HERE, 900, azimuth=0))
    actions.check_in(a, near)
    frozen_clock.advance(minutes=30)
    actions.check_in(a, far, private=True)  # private: the near one stays latest visible
    item = _nearby(client, b)[0]
    assert item["venue"]["id"] == near["id"]


def test_off_strangers_and_one_way_follows_are_absent(client, actions, friends):
    a, b, c = friends(3)
    stranger = actions.register()
    client.post(
        "/api/v1/me/contacts", headers=stranger["headers"], json={"handle": a["user"]["handle"]}
    )
    client.patch("/api/v1/me", headers=c["headers"], json={"location_sharing": "off"})
    venue = actions.venue(a, *HERE)
    actions.check_in(a, venue)
    actions.check_in(c, venue)
    assert [i["user"]["handle"] for i in _nearby(client, b)] == [a["user"]["handle"]]
    assert _nearby(client, stranger) == []


def test_nearest_first_and_geojson(client, actions, friends):
    a, b, c = friends(3)
    actions.check_in(a, actions.venue(a, *offset_point(HERE, 800)))
    actions.check_in(c, actions.venue(c, *offset_point(HERE, 200)))
    items = _nearby(client, b)
    assert [i["user"]["handle"] for i in items] == [c["user"]["handle"], a["user"]["handle"]]
    response = client.get(
        "/api/v1/nearby/contacts",
        headers=b["headers"],
        query_string={"lat": HERE[0], "lon": HERE[1], "format": "geojson"},
    )
    body = response.get_json(force=True)
    assert response.mimetype == "application/geo+json"
    first = body["features"][0]
    assert first["geometry"]["coordinates"] == [
        items[0]["location"]["lon"],
        items[0]["location"]["lat"],
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"lat": 91, "lon": 0},
        {"lat": 0, "lon": -181},
        {"lat": "nan", "lon": 0},
        {"lat": 0, "lon": 0, "radius_m": 50001},
        {"lat": 0},
        {"lat": 0, "lon": 0, "limit": 101},
    ],
)
def test_bad_queries(client, actions, params):
    user = actions.register()
    response = client.get("/api/v1/nearby/contacts", headers=user["headers"], query_string=params)
    assert response.status_code == 422
