"""What every service connection sets: the plans and clock the measurements rely on."""

from sqlalchemy import text

from service.database import db


def test_connections_plan_each_statement_for_its_parameters(base_app):
    """No generic plans (they made the check-in's meeting and fan-out queries 5x slower),
    no JIT (it costs more than millisecond queries take), UTC."""
    with db.state(base_app).engine.connect() as conn:
        settings = {
            name: conn.execute(text(f"SHOW {name}")).scalar()
            for name in ("plan_cache_mode", "jit", "timezone")
        }
    assert settings == {"plan_cache_mode": "force_custom_plan", "jit": "off", "timezone": "UTC"}
