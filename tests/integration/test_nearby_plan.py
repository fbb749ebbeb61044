"""Nearby venues and events keep their KNN plans on a dense city, whatever PostGIS
estimates."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from service.database import db
from service.events.nearby import _nearby_statement as _events_statement
from service.venues.service import _nearby_statement

# The plan inside one PostgreSQL. On Citus the same statement is one task on the
# coordinator's copy of the reference table, planned by that same PostgreSQL
# (tests/citus/test_routing.py checks the routing); ANALYZE there cannot follow the
# test transaction's local reads of venues.
pytestmark = pytest.mark.single_node

CENTER = (40.7295, -74.0042)
DENSE_VENUES = 20_000  # within ~2 km: thousands in every 1 km radius


def _plan(session, statement, **params) -> str:
    compiled = statement.compile(dialect=postgresql.dialect())
    values = compiled.construct_params(params)
    rows = session.connection().exec_driver_sql("EXPLAIN " + compiled.string, values)
    return "\n".join(row[0] for row in rows)


def _dense_city(session) -> None:
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


def test_dense_city_uses_the_knn_index_scan(app):
    """ST_DWithin's exact test is estimated ~1000x too low; bounded by it, PostgreSQL
    expected fewer rows than the LIMIT and sorted a parallel bitmap scan of all ~7,000
    venues in the radius (25-75 ms at 100 k venues) instead of stopping the KNN scan
    after 20 (0.6 ms). The page itself is then read from the small disc the KNN scan
    bounded, through the index too."""
    with app.app_context():
        session = db.session
        _dense_city(session)
        plan = _plan(
            session,
            _nearby_statement(False, False, True),
            lat=CENTER[0],
            lon=CENTER[1],
            radius=1000.0,
            limit=20,
            offset=0,
        )
    assert "Order By: (location <->" in plan, plan
    assert "Bitmap" not in plan and "Seq Scan" not in plan, plan


def test_dense_city_events_use_the_knn_index_scan(app):
    """The same for events (one a venue, a third of them this week): bounded by
    ST_DWithin, their search sorted a bitmap scan of every event in the radius (40 ms
    against 1 ms at 20 k events)."""
    start = datetime(2026, 9, 10, tzinfo=UTC)
    with app.app_context():
        session = db.session
        organiser = session.scalar(
            text(
                "INSERT INTO users (handle, email, display_name, password_hash)"
                " VALUES ('planner', 'planner@example.com', 'Planner', 'x') RETURNING id"
            )
        )
        _dense_city(session)
        session.execute(
            text(
                "INSERT INTO events (venue_id, organiser_id, title, starts_at, ends_at, location)"
                " SELECT id, :organiser, 'Meetup', :start + (id % 21) * interval '1 day',"
                "  :start + (id % 21) * interval '1 day' + interval '2 hours', location"
                " FROM venues"
            ),
            {"organiser": organiser, "start": start},
        )
        session.execute(text("ANALYZE events"))
        plan = _plan(
            session,
            _events_statement(True),
            lat=CENTER[0],
            lon=CENTER[1],
            r=5000.0,
            start=start,
            end=start + timedelta(days=7),
            limit=20,
            offset=0,
            viewer=organiser,
        )
    assert "Order By: (location <->" in plan, plan
    assert "Bitmap Heap Scan on events" not in plan and "Seq Scan" not in plan, plan
