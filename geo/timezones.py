"""IANA time zone of a position, from timezonefinder's offline boundary data."""

from functools import lru_cache

from timezonefinder import TimezoneFinder

from geo.coords import LatLon


@lru_cache(maxsize=1)
def _finder() -> TimezoneFinder:
    return TimezoneFinder(in_memory=True)


def timezone_at(position: LatLon) -> str:
    """Return the IANA zone name at a position (ocean zones like ``Etc/GMT+10`` included)."""
    name = _finder().timezone_at(lng=position.lon, lat=position.lat)
    return name or "UTC"
