"""What every service connection sets, and which statements are planned every time."""

from sqlalchemy import text

from service.database import db
from tests.conftest import offset_point


def test_connections_keep_generic_plans_without_jit_in_utc(base_app):
    """The default plan cache (forcing custom plans cost 0.2-0.9 ms of planning on every
    statement), no JIT (it costs more than millisecond queries take), UTC."""
    with db.state(base_app).engine.connect() as conn:
        settings = {
            name: conn.execute(text(f"SHOW {name}")).scalar()
            for name in ("plan_cache_mode", "jit", "timezone")
        }
    assert settings == {"plan_cache_mode": "auto", "jit": "off", "timezone": "UTC"}


def test_meeting_and_fan_out_queries_are_never_prepared(app, actions, friends, pinned_clock):
    """psycopg prepares a statement on its fifth run and PostgreSQL may then reuse a
    generic plan, measured 6-10x slower for a check-in's meeting candidates and nearby
    fan-out: those two are sent unprepared, every time, while the rest are prepared."""
    a, b = friends(2)
    venues = [actions.venue(a, *offset_point((40.7306, -73.9866), 400 * i)) for i in range(4)]
    for _ in range(2):
        for venue in venues:
            assert actions.check_in(a, venue).status_code == 201
            assert actions.check_in(b, venue).status_code == 201
            pinned_clock.advance(minutes=70)
    with app.app_context():
        prepared = db.session.execute(text("SELECT statement FROM pg_prepared_statements"))
        statements = [" ".join(row[0].split()) for row in prepared]
    assert any("INSERT INTO checkins" in s for s in statements), statements
    assert not [s for s in statements if "AS venue_name" in s or "AS receiver" in s]
