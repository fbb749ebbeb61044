"""The Flask-free geolocation core: spatial expression builders, coordinate validation,
the privacy grid and the pure rules — while ``service/`` runs the queries that join
people, contacts and events.

Everything here is plain Python, or SQLAlchemy and GeoAlchemy2 expressions over columns
passed in; it never imports Flask or ``service`` and raises its own errors
(``geo.errors``). Coordinates are WGS 84 (SRID 4326); distances are metres on the
spheroid (PostGIS ``geography``), never degrees.
"""
