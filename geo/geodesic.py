"""Geodesic distance on the WGS 84 ellipsoid, for points computed outside the database."""

from geographiclib.geodesic import Geodesic

from geo.coords import LatLon

_WGS84 = Geodesic.WGS84


def distance_m(a: LatLon, b: LatLon) -> float:
    """Metres along the WGS 84 geodesic (what PostGIS ``geography`` computes)."""
    return _WGS84.Inverse(a.lat, a.lon, b.lat, b.lon, Geodesic.DISTANCE)["s12"]
