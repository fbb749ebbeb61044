"""Coordinate validation before anything reaches PostGIS."""

import math

import pytest

from geo.coords import LatLon
from geo.errors import InvalidCoordinates


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (91, 0),
        (-90.0001, 0),
        (0, 181),
        (0, -180.5),
        (math.nan, 0),
        (0, math.inf),
        (-math.inf, 0),
        ("40", 0),
        (None, 0),
        (True, 0),
        (0, 200),
    ],
)
def test_rejects_bad_positions(lat, lon):
    with pytest.raises(InvalidCoordinates):
        LatLon(lat, lon)


@pytest.mark.parametrize(("lat", "lon"), [(90, 180), (-90, -180), (0, 0), (40.758, -73.9855)])
def test_accepts_edges(lat, lon):
    position = LatLon(lat, lon)
    assert position.as_geojson() == {"type": "Point", "coordinates": [float(lon), float(lat)]}
