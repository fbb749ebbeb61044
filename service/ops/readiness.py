"""Is the database reachable and the schema at the newest migration?"""

from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

ROOT = Path(__file__).resolve().parents[2]


def expected_heads() -> set[str]:
    """The head revisions of the migration scripts shipped with this code."""
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return set(ScriptDirectory.from_config(config).get_heads())


def check(engine: Engine) -> dict:
    """Return ``{"database": ..., "migrations": ...}``; ``ok`` when both pass."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as exc:  # any failure to reach the database means not ready
        return {
            "ok": False,
            "database": f"unreachable: {type(exc).__name__}",
            "migrations": "unknown",
        }
    expected = expected_heads()
    migrations = (
        "current"
        if current == expected
        else (f"at {sorted(current) or 'nothing'}, expected {sorted(expected)}")
    )
    return {"ok": current == expected, "database": "ok", "migrations": migrations}
