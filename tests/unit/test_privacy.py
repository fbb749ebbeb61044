"""Grid snapping and distance rounding (pure)."""

import random

import pytest
from geographiclib.geodesic import Geodesic

from geo.coords import LatLon
from geo.privacy import CELL_M, round_distance, snap, user_offset

WGS84 = Geodesic.WGS84


def _distance(a: LatLon, b: LatLon) -> float:
    return WGS84.Inverse(a.lat, a.lon, b.lat, b.lon)["s12"]


def test_offsets_are_fixed_per_user_and_differ_between_users():
    secret = b"s3cret"
    assert user_offset(secret, 1) == user_offset(secret, 1)
    assert user_offset(secret, 1) != user_offset(secret, 2)
    assert user_offset(secret, 1) != user_offset(b"other", 1)
    rows, columns = user_offset(secret, 42)
    assert 0 <= rows < 1 and 0 <= columns < 1


def test_snap_is_deterministic_and_stays_in_the_cell():
    rng = random.Random(1)
    for _ in range(500):
        position = LatLon(rng.uniform(-70, 70), rng.uniform(-180, 180))
        offset = (rng.random(), rng.random())
        centre = snap(position, offset)
        assert snap(position, offset) == centre
        # a point is never farther from its cell centre than half the cell's diagonal
        assert _distance(position, centre) <= CELL_M * 0.75


def test_points_in_one_cell_share_the_centre():
    offset = (0.3, 0.7)
    centre = snap(LatLon(40.758, -73.9855), offset)
    assert snap(centre, offset) == centre
    nearby = LatLon(centre.lat + 0.001, centre.lon + 0.001)
    assert snap(nearby, offset) == centre


def test_offset_moves_the_cell_edges():
    position = LatLon(40.758, -73.9855)
    centres = {snap(position, (i / 10, i / 10)) for i in range(10)}
    assert len(centres) > 5


@pytest.mark.parametrize(
    "position",
    [
        LatLon(0, 179.9999),
        LatLon(0, -180),
        LatLon(89.9999, 12),
        LatLon(-90, 0),
        LatLon(90, 180),
    ],
)
def test_edges_of_the_globe_give_valid_positions(position):
    for offset in ((0, 0), (0.5, 0.5), (0.999, 0.999)):
        centre = snap(position, offset)
        assert -90 <= centre.lat <= 90 and -180 <= centre.lon < 180


def test_antimeridian_cells_wrap():
    offset = (0.2, 0.5)
    east, west = snap(LatLon(10, 179.99), offset), snap(LatLon(10, -179.99), offset)
    assert _distance(LatLon(10, 179.99), east) < CELL_M
    assert _distance(LatLon(10, -179.99), west) < CELL_M


@pytest.mark.parametrize(
    ("distance", "step", "rounded"),
    [
        (0, 100, 0),
        (49, 100, 0),
        (51, 100, 100),
        (1234, 100, 1200),
        (249, 500, 0),
        (251, 500, 500),
        (1749, 500, 1500),
        (1751, 500, 2000),
    ],
)
def test_round_distance(distance, step, rounded):
    assert round_distance(distance, step) == rounded
