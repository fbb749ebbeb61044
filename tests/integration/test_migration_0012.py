"""Upgrading a database with identities from before verification (migration 0012)."""

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import TEST_DATABASE_URL, migrate

SCRATCH = "irl_migration_0012"


@pytest.fixture
def old_database():
    """A scratch database migrated to 0011, dropped afterwards."""
    url = make_url(TEST_DATABASE_URL)
    admin = f"host={url.host} port={url.port or 5432} user={url.username} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH}")
        conn.execute(f"CREATE DATABASE {SCRATCH}")
    engine = create_engine(url.set(database=SCRATCH))
    with engine.begin() as conn:
        migrate(conn, "0011")
    yield engine
    engine.dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")


def test_old_identities_become_claims_and_orphaned_follows_go(old_database):
    with old_database.begin() as conn:
        for uid in (1, 2, 3):
            conn.execute(
                text(
                    "INSERT INTO users (id, handle, email, password_hash, display_name) "
                    "VALUES (:id, :h, :email, 'x', :h)"
                ),
                {"id": uid, "h": f"user{uid}", "email": f"user{uid}@x.example"},
            )
        conn.execute(text("INSERT INTO identities VALUES (2, 'twitter', 'two', now())"))
        # 1 follows 2 through 2's Twitter identity, and 3 through a GitHub identity that
        # 3 unlinked under the old rules; 3 follows 1 in the app
        conn.execute(
            text(
                "INSERT INTO follows (follower_id, followee_id, via) VALUES "
                "(1, 2, 'twitter'), (1, 3, 'github'), (3, 1, 'app')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO relationships (user_id, other_id, i_follow, they_follow) VALUES "
                "(1, 2, true, false), (2, 1, false, true), (1, 3, true, true), (3, 1, true, true)"
            )
        )
        migrate(conn, "0012")
        identity = conn.execute(
            text("SELECT verified_at, proof_code FROM identities WHERE user_id = 2")
        ).one()
        follows = conn.execute(text("SELECT follower_id, followee_id, via FROM follows")).all()
        mutual = conn.execute(
            text("SELECT user_id, other_id, mutual FROM relationships ORDER BY 1, 2")
        ).all()
    assert identity.verified_at is None and identity.proof_code.startswith("irl-")
    assert sorted(follows) == [(1, 2, "twitter"), (3, 1, "app")]
    assert mutual == [(1, 2, False), (1, 3, False), (2, 1, False), (3, 1, False)]
