"""Errors raised by the geolocation core."""


class GeoError(ValueError):
    """Base class for geolocation errors."""


class InvalidCoordinates(GeoError):
    """A latitude/longitude pair that is not a finite WGS 84 position."""
