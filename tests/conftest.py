"""Fixtures: a real PostGIS test database built by the migrations, one app per run,
and each test rolled back (or, for concurrency tests, committed and truncated after)."""

import os
import subprocess
import sys
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from geographiclib.geodesic import Geodesic
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from service import clock
from service.database import db
from service.models import Base
from tests import citus_cluster
from tests.databases import DEFAULT_TEST_DATABASE_URL, sibling_database
from tests.fake_networks import FakeNetworks

# Under ``pytest -n`` (``make test-fast``) each xdist worker has a database of its own,
# named after the test database: irl_test → irl_test_gw0, irl_test_gw1.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
TEST_DATABASE_URL = sibling_database(
    os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL), f"_{WORKER}" if WORKER else ""
)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# ``make test-citus``: the coordinator and workers of the Citus cluster the tests run on
CITUS_NODES = os.environ.get("CITUS_NODES")


def migrate(connection, revision: str = "head") -> None:
    """Run Alembic on an open connection (the only way the schema is made)."""
    config = AlembicConfig(os.path.join(ROOT, "alembic.ini"))
    config.set_main_option("script_location", os.path.join(ROOT, "migrations"))
    config.attributes["connection"] = connection
    config.attributes["configure_logger"] = False
    command.upgrade(config, revision)


def pytest_collection_modifyitems(items):
    """Tests that commit for real (``live_app``: races between connections, tables
    emptied after) are marked ``committing``: ``make test-fast`` leaves them out."""
    for item in items:
        if "live_app" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.committing)


@pytest.fixture(scope="session")
def engine():
    """A fresh schema: drop everything, then migrate to head."""
    if CITUS_NODES:  # make test-citus: the database rebuilt on every node, then migrated
        citus_cluster.recreate_database(
            citus_cluster.parse_nodes(CITUS_NODES), make_url(TEST_DATABASE_URL).database
        )
        eng = create_engine(TEST_DATABASE_URL)
        with eng.begin() as conn:
            migrate(conn)
        eng.dispose()  # new sessions take the database's settings the migration made
        yield eng
        eng.dispose()
        return
    if WORKER:  # the worker's own database: created (with PostGIS at hand) when missing
        prepare = os.path.join(ROOT, "scripts", "prepare_db.py")
        subprocess.run([sys.executable, prepare, TEST_DATABASE_URL], check=True)
    eng = create_engine(TEST_DATABASE_URL)
    with eng.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
        migrate(conn)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def networks():
    """The networks' public APIs and OAuth providers, on a local server."""
    fake = FakeNetworks()
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def base_app(engine, networks):
    """One app for the whole run, on the test database, reading the fake networks."""
    from service.app import create_app  # here, so the unit tests never build the blueprints

    app = create_app(
        {
            **networks.profile_config(),
            **networks.oauth_config(),
            "IDENTITY_FETCH_TIMEOUT_S": 1.0,
            "DATABASE_URL": TEST_DATABASE_URL,
            "JWT_SECRET_KEY": "test-secret-" + "x" * 40,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_KIB": 1024,
            "DB_POOL_SIZE": 25,
            "DB_MAX_OVERFLOW": 10,
            # the races queue 40 threads on one user's lock: on a busy 2-core machine (two
            # xdist workers) that can outlast the 5 s default; test_database_faults tests it
            "DB_POOL_TIMEOUT_S": 30,
            "TESTING": True,
            "CHECK_JSON_SHAPE": True,  # fast JSON answers must equal their schema's dump
            # generous: tests make many requests as one user; test_rate_limits tightens them
            "RATE_LIMIT_WRITES": "100000 per minute",
            "RATE_LIMIT_READS": "100000 per minute",
            "RATE_LIMIT_NEARBY": "100000 per minute",
            "RATE_LIMIT_AUTH": "100000 per minute",
            "RATE_LIMIT_IDENTITY_CHECKS": "100000 per minute",
        }
    )
    yield app
    db.state(app).engine.dispose()


@contextmanager
def rolled_back(base_app, engine):
    """Every session of the app inside one transaction on one connection (yielded),
    rolled back at the end with the app's settings and rate limits as they were."""
    connection = engine.connect()
    outer = connection.begin()
    state = db.state(base_app)
    original = state.session_factory, state.reader_factory
    state.session_factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    state.reader_factory = None  # reads share the request's session (and its savepoint)
    saved_config = dict(base_app.config)
    try:
        yield connection
    finally:
        base_app.config.update(saved_config)
        state.session_factory, state.reader_factory = original
        outer.rollback()
        connection.close()
        _reset_limiter(base_app)


@pytest.fixture
def app(base_app, engine):
    """The app with every session inside one transaction that is rolled back."""
    with rolled_back(base_app, engine):
        yield base_app


@pytest.fixture
def live_app(base_app, engine):
    """The app committing for real (for races between connections); tables emptied after."""
    _truncate(engine)
    try:
        yield base_app
    finally:
        _truncate(engine)
        _reset_limiter(base_app)


def _truncate(engine) -> None:
    """Empty every table (named: on Citus not every foreign key is there to cascade)."""
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def _reset_limiter(app) -> None:
    from service.ratelimit import limiter

    app.extensions["irl_login_limiter"].storage.reset()
    with app.app_context():
        limiter.reset()


@pytest.fixture
def client(app):
    """A test client on the rolled-back app."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner on the rolled-back app."""
    return app.test_cli_runner()


_WGS84 = Geodesic.WGS84


def offset_point(origin: tuple[float, float], metres: float, azimuth: float = 90.0):
    """The point ``metres`` along the WGS 84 geodesic from ``origin`` at ``azimuth``."""
    point = _WGS84.Direct(origin[0], origin[1], azimuth, metres)
    return point["lat2"], point["lon2"]


class Clock:
    """Moves the service's clock in tests."""

    def __init__(self, monkeypatch):
        self.current = datetime.now(UTC).replace(microsecond=0)
        monkeypatch.setattr(clock, "now", lambda: self.current)

    def advance(self, **delta) -> datetime:
        from datetime import timedelta

        self.current += timedelta(**delta)
        return self.current


@pytest.fixture
def frozen_clock(monkeypatch):
    """Freeze the service clock at a whole second; ``advance(minutes=...)`` moves it."""
    return Clock(monkeypatch)


PINNED_AT = datetime(2026, 6, 10, 16, 0, tzinfo=UTC)  # a Wednesday, 12:00 in New York


@pytest.fixture
def pinned_clock(frozen_clock):
    """``frozen_clock`` set to ``PINNED_AT``: noon in New York (17:00 in London), hours
    from any local midnight, night-time badge or DST change, whenever the test runs."""
    frozen_clock.current = PINNED_AT
    return frozen_clock


class Actions:
    """Short helpers for the requests most tests need."""

    def __init__(self, client):
        self.client = client

    def register(self, handle: str | None = None, **extra) -> dict:
        handle = handle or f"u{uuid.uuid4().hex[:10]}"
        body = {
            "handle": handle,
            "email": f"{handle}@example.com",
            "password": "correct horse battery",
            "display_name": handle.title(),
            **extra,
        }
        response = self.client.post("/api/v1/auth/register", json=body)
        assert response.status_code == 201, response.json
        data = response.json
        data["headers"] = {"Authorization": f"Bearer {data['access_token']}"}
        return data

    def venue(self, user: dict, lat: float, lon: float, **extra) -> dict:
        body = {
            "name": extra.pop("name", "Cafe"),
            "category": extra.pop("category", "Coffee"),
            "location": {"lat": lat, "lon": lon},
            **extra,
        }
        response = self.client.post("/api/v1/venues", json=body, headers=user["headers"])
        assert response.status_code == 201, response.json
        return response.json

    def check_in(self, user: dict, venue: dict, lat=None, lon=None, headers=None, **extra):
        location = {
            "lat": venue["location"]["lat"] if lat is None else lat,
            "lon": venue["location"]["lon"] if lon is None else lon,
        }
        body = {"venue_id": venue["id"], "location": location, **extra}
        return self.client.post(
            "/api/v1/checkins", json=body, headers={**user["headers"], **(headers or {})}
        )


@pytest.fixture
def actions(client):
    """Register users, create venues, check in."""
    return Actions(client)


def verify_identity(client, networks, user: dict, network: str, handle: str) -> dict:
    """Verify ``handle`` on ``network`` for ``user`` the way a person does: the code in the
    public profile (Mastodon, Bluesky, GitHub) or signing in at the provider (OAuth)."""
    headers = user["headers"]
    if network in ("mastodon", "bluesky", "github"):
        claimed = client.put(
            f"/api/v1/me/identities/{network}", headers=headers, json={"handle": handle}
        )
        assert claimed.status_code in (200, 201), claimed.json
        networks.publish(network, claimed.json["handle"], f"hi! {claimed.json['proof_code']}")
        response = client.post(f"/api/v1/me/identities/{network}/verify", headers=headers)
    else:
        finished = oauth_sign_in(client, user, network, handle).json
        response = client.post(
            f"/api/v1/me/identities/{network}/verify",
            headers=headers,
            json={"state": finished["state"], "completion": finished["completion"]},
        )
    assert response.status_code == 200 and response.json["verified"], response.json
    return response.json


def oauth_sign_in(client, user: dict, network: str, username: str, deny: bool = False):
    """Authorize → sign in at the provider as ``username`` → the provider's redirect to
    IRL's callback; the callback's response (``state``, ``completion`` when it worked)."""
    import httpx

    started = client.get(f"/api/v1/me/identities/{network}/authorize", headers=user["headers"])
    assert started.status_code == 200, started.json
    form = {"username": username} | ({"deny": "1"} if deny else {})
    at_provider = httpx.post(started.json["authorize_url"], data=form)
    assert at_provider.status_code == 302, at_provider.text
    location = at_provider.headers["location"]
    assert location.startswith("http://localhost/api/v1/identities/")
    return client.get(location.removeprefix("http://localhost"))


@pytest.fixture
def verified(client, networks):
    """Factory: ``verified(user, network, handle)`` verifies that identity for real."""
    return lambda user, network, handle: verify_identity(client, networks, user, network, handle)


def befriend(client, a: dict, b: dict) -> None:
    """Make a and b mutual contacts through direct follows."""
    for follower, followee in ((a, b), (b, a)):
        response = client.post(
            "/api/v1/me/contacts",
            headers=follower["headers"],
            json={"handle": followee["user"]["handle"]},
        )
        assert response.status_code == 201, response.json


@pytest.fixture
def friends(client, actions):
    """Factory: register n users who are all mutual contacts of each other."""

    def make(count: int = 2, **settings) -> list[dict]:
        people = [actions.register() for _ in range(count)]
        for index, person in enumerate(people):
            for other in people[index + 1 :]:
                befriend(client, person, other)
            if settings:
                response = client.patch("/api/v1/me", headers=person["headers"], json=settings)
                assert response.status_code == 200
        return people

    return make


@pytest.fixture
def no_positions_or_tokens_in_logs():
    """Capture every log record while a privacy test runs; at its end, fail if any holds
    a coordinate or token the test sent or was issued, or "Bearer" (tests/log_privacy.py)."""
    from tests.log_privacy import captured_logs_checked

    yield from captured_logs_checked()
