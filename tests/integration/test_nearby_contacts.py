"""Nearby contacts, shaped by each contact's sharing; trilateration resistance."""

import math
import random

import numpy as np
import pytest
from geographiclib.geodesic import Geodesic

from tests.conftest import offset_point

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


def _trilaterate(observations):
    """Best point for (query position, reported distance) pairs: grid search, numpy."""
    lat0 = np.mean([p[0] for p, _ in observations])
    lon0 = np.mean([p[1] for p, _ in observations])
    kx = 111_320 * math.cos(math.radians(lat0))
    qx = np.array([(p[1] - lon0) * kx for p, _ in observations])
    qy = np.array([(p[0] - lat0) * 111_320 for p, _ in observations])
    d = np.array([dist for _, dist in observations])
    best, span, step = (0.0, 0.0), 8000.0, 100.0
    for _ in range(3):
        xs = np.arange(best[0] - span, best[0] + span + step, step)
        ys = np.arange(best[1] - span, best[1] + span + step, step)
        gx, gy = np.meshgrid(xs, ys)
        predicted = np.hypot(gx[..., None] - qx, gy[..., None] - qy)
        cost = np.abs(predicted - d).sum(axis=-1)
        iy, ix = np.unravel_index(np.argmin(cost), cost.shape)
        best, span, step = (gx[iy, ix], gy[iy, ix]), step * 2, step / 10
    return lat0 + best[1] / 111_320, lon0 + best[0] / kx


def test_trilateration_cannot_beat_the_grid(client, actions, friends):
    """A contact queries from 120 chosen positions; 40 approximate users stay ≥ 500 m away
    (median) from the attacker's best estimate. A stranger learns nothing at all."""
    rng = random.Random(2026)
    attacker = actions.register()
    targets = []
    for _ in range(40):
        target = actions.register()
        for follower, followee in ((attacker, target), (target, attacker)):
            client.post(
                "/api/v1/me/contacts",
                headers=follower["headers"],
                json={"handle": followee["user"]["handle"]},
            )
        client.patch(
            "/api/v1/me", headers=target["headers"], json={"location_sharing": "approximate"}
        )
        true = offset_point(HERE, rng.uniform(0, 4000), azimuth=rng.uniform(0, 360))
        actions.check_in(target, actions.venue(target, *true))
        targets.append((target["user"]["handle"], true))
    observations = {handle: [] for handle, _ in targets}
    for _ in range(120):
        position = offset_point(HERE, rng.uniform(0, 6000), azimuth=rng.uniform(0, 360))
        for item in _nearby(
            client, attacker, lat=position[0], lon=position[1], radius_m=50000, limit=100
        ):
            observations[item["user"]["handle"]].append((position, item["distance_m"]))
    errors = []
    for handle, true in targets:
        estimate = _trilaterate(observations[handle])
        errors.append(WGS84.Inverse(*estimate, *true)["s12"])
    assert len(errors) == 40
    median = sorted(errors)[len(errors) // 2]
    print(f"trilateration: median error {median:.0f} m over {len(errors)} users")
    assert median >= 500, sorted(errors)

    stranger = actions.register()
    assert _nearby(client, stranger, radius_m=50000) == []
