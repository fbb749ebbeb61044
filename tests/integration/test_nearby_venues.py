"""Nearby search: order, spheroidal distances, filters, edges of the globe, GeoJSON."""

import random

import pytest
from geographiclib.geodesic import Geodesic

WGS84 = Geodesic.WGS84
CENTER = (40.758, -73.9855)


def _nearby(client, user, **params):
    return client.get("/api/v1/venues/nearby", headers=user["headers"], query_string=params)


def _around(actions, user, center, count, spread_m, seed=7):
    rng = random.Random(seed)
    venues = []
    for index in range(count):
        point = WGS84.Direct(center[0], center[1], rng.uniform(0, 360), rng.uniform(5, spread_m))
        venues.append(
            actions.venue(
                user,
                point["lat2"],
                point["lon2"],
                name=f"V{index}",
                category="Bar" if index % 2 else "Coffee Shop",
            )
        )
    return venues


def test_nearest_first_with_geodesic_distances(client, actions):
    user = actions.register()
    _around(actions, user, CENTER, 30, 3000)
    response = _nearby(client, user, lat=CENTER[0], lon=CENTER[1], radius_m=5000, limit=100)
    assert response.status_code == 200
    items = response.json["items"]
    assert len(items) == 30
    distances = [item["distance_m"] for item in items]
    assert distances == sorted(distances)
    for item in items:
        reference = WGS84.Inverse(
            CENTER[0], CENTER[1], item["location"]["lat"], item["location"]["lon"]
        )["s12"]
        assert item["distance_m"] == pytest.approx(reference, rel=0.005, abs=0.1)


def test_radius_bounds_results(client, actions):
    user = actions.register()
    inside = WGS84.Direct(*CENTER, 90, 990)
    outside = WGS84.Direct(*CENTER, 90, 1010)
    near = actions.venue(user, inside["lat2"], inside["lon2"], name="Inside")
    far = actions.venue(user, outside["lat2"], outside["lon2"], name="Outside")
    ids = [
        item["id"]
        for item in _nearby(client, user, lat=CENTER[0], lon=CENTER[1], radius_m=1000).json["items"]
    ]
    assert near["id"] in ids and far["id"] not in ids


def test_default_radius_is_1000_m(client, actions):
    user = actions.register()
    point = WGS84.Direct(*CENTER, 0, 1500)
    venue = actions.venue(user, point["lat2"], point["lon2"])
    ids = [i["id"] for i in _nearby(client, user, lat=CENTER[0], lon=CENTER[1]).json["items"]]
    assert venue["id"] not in ids


def test_antimeridian(client, actions):
    user = actions.register()
    venue = actions.venue(user, 0.0, 179.9995, name="Date line east")
    response = _nearby(client, user, lat=0.0, lon=-179.9995, radius_m=500)
    items = response.json["items"]
    assert [item["id"] for item in items] == [venue["id"]]
    reference = WGS84.Inverse(0.0, -179.9995, 0.0, 179.9995)["s12"]
    assert items[0]["distance_m"] == pytest.approx(reference, rel=0.005)
    assert items[0]["distance_m"] < 200


def test_near_the_poles(client, actions):
    user = actions.register()
    across = actions.venue(user, 89.9995, 90.0, name="North pole camp")
    response = _nearby(client, user, lat=89.9995, lon=-90.0, radius_m=500)
    items = response.json["items"]
    assert [item["id"] for item in items] == [across["id"]]
    reference = WGS84.Inverse(89.9995, -90.0, 89.9995, 90.0)["s12"]
    assert items[0]["distance_m"] == pytest.approx(reference, rel=0.005)
    south = actions.venue(user, -90.0, 0.0, name="South pole")
    response = _nearby(client, user, lat=-89.9999, lon=123.0, radius_m=100)
    assert [item["id"] for item in response.json["items"]] == [south["id"]]


def test_category_and_name_filters(client, actions):
    user = actions.register()
    _around(actions, user, CENTER, 10, 500)
    actions.venue(user, *CENTER, name="100% Pure_Juice", category="Juice Bar")
    bars = _nearby(client, user, lat=CENTER[0], lon=CENTER[1], category="bar").json["items"]
    assert bars and all(item["category"] == "Bar" for item in bars)
    named = _nearby(client, user, lat=CENTER[0], lon=CENTER[1], q="v1").json["items"]
    assert {item["name"] for item in named} == {"V1"}
    literal = _nearby(client, user, lat=CENTER[0], lon=CENTER[1], q="0% P").json["items"]
    assert [item["name"] for item in literal] == ["100% Pure_Juice"]
    assert (
        _nearby(client, user, lat=CENTER[0], lon=CENTER[1], q="%").json["items"][0]["name"]
        == "100% Pure_Juice"
    )


def test_pagination_walks_every_venue_once(client, actions):
    user = actions.register()
    _around(actions, user, CENTER, 25, 2000)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"lat": CENTER[0], "lon": CENTER[1], "radius_m": 5000, "limit": 10}
        if cursor:
            params["cursor"] = cursor
        body = _nearby(client, user, **params).json
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 25


@pytest.mark.parametrize(
    "params",
    [
        {"lat": 91, "lon": 0},
        {"lat": 0, "lon": 181},
        {"lat": "NaN", "lon": 0},
        {"lat": "inf", "lon": 0},
        {"lat": "abc", "lon": 0},
        {"lon": 0},
        {"lat": 0},
        {"lat": 0, "lon": 0, "radius_m": 50001},
        {"lat": 0, "lon": 0, "radius_m": 0},
        {"lat": 0, "lon": 0, "radius_m": 1e308},
        {"lat": 0, "lon": 0, "radius_m": "NaN"},
        {"lat": 0, "lon": 0, "limit": 0},
        {"lat": 0, "lon": 0, "limit": 101},
        {"lat": 0, "lon": 0, "cursor": "not-a-cursor"},
        {"lat": 0, "lon": 0, "cursor": "WyJ4Il0"},
        {"lat": 0, "lon": 0, "format": "kml"},
    ],
)
def test_bad_queries_are_422(client, actions, params):
    user = actions.register()
    response = _nearby(client, user, **params)
    assert response.status_code == 422, response.json
    assert response.json["message"]


def test_limit_edges(client, actions):
    user = actions.register()
    _around(actions, user, CENTER, 3, 100)
    assert len(_nearby(client, user, lat=CENTER[0], lon=CENTER[1], limit=1).json["items"]) == 1
    assert _nearby(client, user, lat=CENTER[0], lon=CENTER[1], limit=100).status_code == 200
    assert _nearby(client, user, lat=CENTER[0], lon=CENTER[1], radius_m=50000).status_code == 200


def test_geojson_by_format_and_accept(client, actions):
    user = actions.register()
    venue = actions.venue(user, 40.7, -73.9, name="Geo")
    by_format = _nearby(client, user, lat=40.7, lon=-73.9, format="geojson")
    by_accept = client.get(
        "/api/v1/venues/nearby",
        query_string={"lat": 40.7, "lon": -73.9},
        headers={**user["headers"], "Accept": "application/geo+json"},
    )
    for response in (by_format, by_accept):
        assert response.status_code == 200
        assert response.mimetype == "application/geo+json"
        body = response.json if response.is_json else __import__("json").loads(response.data)
        assert body["type"] == "FeatureCollection"
        feature = body["features"][0]
        assert feature["type"] == "Feature" and feature["id"] == venue["id"]
        assert feature["geometry"] == {"type": "Point", "coordinates": [-73.9, 40.7]}
        assert feature["properties"]["name"] == "Geo"
        assert "distance_m" in feature["properties"]
    plain = _nearby(client, user, lat=40.7, lon=-73.9)
    assert plain.mimetype == "application/json"


def test_antimeridian_query_that_trips_postgis_knn(client, actions):
    """Found by fuzzing: at longitude -180 PostGIS's geography KNN can abort with "index
    returned tuples in wrong order"; the search then sorts by exact distance instead."""
    user = actions.register()
    for lon in (180.0, -180.0, 179.9999, -179.9999, 180.0):
        actions.venue(user, 0.0, lon, name=f"Dateline {lon}")
    response = client.get(
        "/api/v1/venues/nearby",
        headers=user["headers"],
        query_string={"lat": 0.0, "lon": -180.0, "radius_m": 50000},
    )
    assert response.status_code == 200, response.json
    distances = [item["distance_m"] for item in response.json["items"]]
    assert len(distances) == 5 and distances == sorted(distances) and distances[0] == 0.0
