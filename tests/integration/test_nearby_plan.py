"""Nearby venues keeps its KNN plan on a dense city, whatever PostGIS estimates."""

from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from service.database import db
from service.venues.service import _nearby_statement

CENTER = (40.7295, -74.0042)
DENSE_VENUES = 20_000  # within ~2 km: thousands in every 1 km radius


def _plan(session, **params) -> str:
    compiled = _nearby_statement(False, False, True).compile(dialect=postgresql.dialect())
    values = compiled.construct_params(params)
    rows = session.connection().exec_driver_sql("EXPLAIN " + compiled.string, values)
    return "\n".join(row[0] for row in rows)


def test_dense_city_uses_the_knn_index_scan(app):
    """ST_DWithin's exact test is estimated ~1000x too low; bounded by it, PostgreSQL
    expected fewer rows than the LIMIT and sorted a parallel bitmap scan of all ~7,000
    venues in the radius (25-75 ms at 100 k venues) instead of stopping the KNN scan
    after 20 (0.6 ms)."""
    with app.app_context():
        session = db.session
        session.execute(text("SELECT setseed(0.42)"))
        session.execute(
            text(
                "INSERT INTO venues (name, category, location, radius_m, timezone)"
                " SELECT 'Dense ' || n, 'Bar', point, 100, 'America/New_York' FROM ("
                "  SELECT n, ST_SetSRID(ST_MakePoint(:lon + (random() - 0.5) * 0.05,"
                "   :lat + (random() - 0.5) * 0.04), 4326) AS point"
                "  FROM generate_series(1, :count) AS n) AS made"
                " ORDER BY ST_GeoHash(point)"  # stored as CLUSTER on the index leaves them
            ),
            {"lat": CENTER[0], "lon": CENTER[1], "count": DENSE_VENUES},
        )
        session.execute(text("ANALYZE venues"))
        # Plan as for a city-sized table, where a parallel bitmap scan is on offer.
        session.execute(text("SET LOCAL min_parallel_table_scan_size = 0"))
        plan = _plan(session, lat=CENTER[0], lon=CENTER[1], radius=1000.0, limit=20, offset=0)
    assert "Order By: (location <->" in plan, plan
    assert "Bitmap" not in plan and "Seq Scan" not in plan, plan
