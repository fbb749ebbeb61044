"""Migration 0024: the lookup tables are filled from the rows that exist, and it goes back."""

import os

import psycopg
import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import ROOT, TEST_DATABASE_URL, migrate

REVISION = "0024"


def _config(connection) -> AlembicConfig:
    config = AlembicConfig(os.path.join(ROOT, "alembic.ini"))
    config.set_main_option("script_location", os.path.join(ROOT, "migrations"))
    config.attributes["connection"] = connection
    config.attributes["configure_logger"] = False
    return config


def _before() -> str:
    script = ScriptDirectory.from_config(_config(None))
    return script.get_revision(REVISION).down_revision


@pytest.fixture
def old_database():
    """A scratch database (named after the test database) migrated to just before 0024."""
    url = make_url(TEST_DATABASE_URL)
    scratch = f"{url.database}_m{REVISION}"
    admin = f"host={url.host} port={url.port or 5432} user={url.username} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {scratch}")
        conn.execute(f"CREATE DATABASE {scratch}")
    engine = create_engine(url.set(database=scratch))
    with engine.begin() as conn:
        migrate(conn, _before())
    yield engine
    engine.dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")


def _all(conn, sql: str) -> list[tuple]:
    return [tuple(row) for row in conn.execute(text(sql)).all()]


def test_lookups_are_filled_and_the_old_keys_come_back(old_database):
    with old_database.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, handle, email, password_hash, display_name) VALUES "
                "(1, 'Ann_1', 'Ann@Example.com', 'x', 'Ann'), (2, 'bo', 'bo@x.example', 'x', 'Bo')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO devices (user_id, platform, token) VALUES "
                "(1, 'ios', 'tok-a'), (2, 'web', 'tok-b')"
            )
        )
        conn.execute(
            text("INSERT INTO calendar_tokens (user_id, token_hash) VALUES (2, '\\x0102')")
        )
        conn.execute(
            text(
                "INSERT INTO identities (user_id, network, handle, verified_at) VALUES "
                "(1, 'github', 'ann', now()), (2, 'github', 'ann', NULL), "
                "(2, 'mastodon', 'bo@x.example', now())"
            )
        )
        migrate(conn, REVISION)
        assert _all(conn, "SELECT handle, user_id FROM user_handles ORDER BY 2") == [
            ("ann_1", 1),
            ("bo", 2),
        ]
        assert _all(conn, "SELECT email, user_id FROM user_emails ORDER BY 2") == [
            ("ann@example.com", 1),
            ("bo@x.example", 2),
        ]
        assert _all(conn, "SELECT token, user_id FROM device_tokens ORDER BY 2") == [
            ("tok-a", 1),
            ("tok-b", 2),
        ]
        assert _all(conn, "SELECT user_id FROM calendar_token_hashes") == [(2,)]
        assert _all(conn, "SELECT handle, network, user_id FROM verified_handles ORDER BY 3") == [
            ("ann", "github", 1),
            ("bo@x.example", "mastodon", 2),
        ]
        command.downgrade(_config(conn), _before())
        keys = _all(
            conn,
            "SELECT indexname FROM pg_indexes WHERE indexname IN ('uq_devices_token', "
            "'uq_calendar_tokens_token_hash', 'uq_identities_network_handle', "
            "'uq_venue_staff_id', 'ix_devices_user') ORDER BY 1",
        )
        assert [k for (k,) in keys] == [
            "ix_devices_user",
            "uq_calendar_tokens_token_hash",
            "uq_devices_token",
            "uq_identities_network_handle",
            "uq_venue_staff_id",
        ]
        assert _all(conn, "SELECT to_regclass('user_handles')") == [(None,)]
        migrate(conn, REVISION)  # and forward again
