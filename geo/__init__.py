"""Geolocation core: coordinates, spatial query builders, distance and speed rules.

Everything here is plain Python or SQLAlchemy expressions. It never imports Flask or
``service``. Coordinates are WGS 84 (SRID 4326); distances are metres on the spheroid.
"""
