"""WGS 84 positions, validated before they ever reach PostGIS.

PostGIS silently wraps a longitude of 200 to -160 and accepts NaN, so every position is
checked here first.
"""

import math
from dataclasses import dataclass

from geo.errors import InvalidCoordinates

LAT_RANGE = (-90.0, 90.0)
LON_RANGE = (-180.0, 180.0)


def _finite_in_range(name: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidCoordinates(f"{name} must be a number")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidCoordinates(f"{name} must be a finite number")
    if not low <= number <= high:
        raise InvalidCoordinates(f"{name} must be between {low:g} and {high:g}")
    return number


@dataclass(frozen=True)
class LatLon:
    """A WGS 84 position in decimal degrees."""

    lat: float
    lon: float

    def __post_init__(self):
        object.__setattr__(self, "lat", _finite_in_range("lat", self.lat, *LAT_RANGE))
        object.__setattr__(self, "lon", _finite_in_range("lon", self.lon, *LON_RANGE))

    def as_dict(self) -> dict:
        """Return the API's ``{"lat", "lon"}`` shape."""
        return {"lat": self.lat, "lon": self.lon}

    def as_geojson(self) -> dict:
        """Return an RFC 7946 Point (``[lon, lat]`` order)."""
        return {"type": "Point", "coordinates": [self.lon, self.lat]}
