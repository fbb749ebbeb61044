"""The nearby-venues SQL, raw: the service's geography query and a geometry equivalent."""

import math

from seeding import METRES_PER_DEGREE

# What service/venues/service.py:nearby emits (SQLAlchemy), written out by hand.
GEOGRAPHY_SQL = """
SELECT * FROM (
    SELECT id, name, category, address, radius_m, timezone, owner_id,
           ST_Y(location::geometry) AS lat, ST_X(location::geometry) AS lon,
           ST_Distance(location,
                       ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography) AS distance_m
    FROM venues
    WHERE deleted_at IS NULL
      AND ST_DWithin(location,
                     ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, %(radius)s)
    ORDER BY location <-> ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography
    LIMIT %(limit)s OFFSET 0
) AS near
ORDER BY distance_m, id
"""

# The same shape on bench_venues_geom (planar degrees; see degrees_for).
GEOMETRY_SQL = """
SELECT * FROM (
    SELECT id, name, category, address, radius_m, timezone, owner_id,
           ST_Y(geom) AS lat, ST_X(geom) AS lon,
           ST_Distance(geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)) AS distance_deg
    FROM bench_venues_geom
    WHERE deleted_at IS NULL
      AND ST_DWithin(geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), %(deg)s)
    ORDER BY geom <-> ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)
    LIMIT %(limit)s OFFSET 0
) AS near
ORDER BY distance_deg, id
"""

SQL = {"raw_geography": GEOGRAPHY_SQL, "raw_geometry": GEOMETRY_SQL}


def degrees_for(radius_m: float, lat: float) -> float:
    """An approximate search size in degrees for ``radius_m`` metres at latitude ``lat``.

    One degree of longitude is ~111,320 m * cos(lat); dividing by that (the shorter
    degree) gives a planar circle that covers the metric one — wider than it north-south.
    Distances and ordering in degrees are not metres, so this variant only approximates
    the geography query; it is here to price the spatial type, not to replace it.
    """
    return radius_m / (METRES_PER_DEGREE * math.cos(math.radians(lat)))


def params_for(name: str, lat: float, lon: float, radius_m: float, limit: int) -> dict:
    """Bind parameters of the raw query ``name`` at one position."""
    params = {"lat": lat, "lon": lon, "limit": limit}
    if name == "raw_geometry":
        params["deg"] = degrees_for(radius_m, lat)
    else:
        params["radius"] = float(radius_m)
    return params
