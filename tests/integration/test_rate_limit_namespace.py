"""Rate-limit and failed-login keys carry the deployment's namespace
(``RATELIMIT_KEY_PREFIX``, default the database's name), so deployments and test runs
sharing one Redis never count against, or clear, each other's counters."""

import pytest
import redis
from flask import Flask
from limits.storage import MemoryStorage
from sqlalchemy.engine import make_url

from service.auth import throttle
from service.errors import RateLimited
from service.ratelimit import key_prefix, limiter
from tests.conftest import TEST_DATABASE_URL

REDIS_URL = "redis://127.0.0.1:6379/15"
PREFIX = "irl-ns-test"


def test_the_prefix_defaults_to_the_database_name():
    config = {"DATABASE_URL": "postgresql+psycopg://postgres@db:5432/irl_prod"}
    assert key_prefix(config) == "irl_prod"
    assert key_prefix({**config, "RATELIMIT_KEY_PREFIX": "eu-1"}) == "eu-1"


def _keys(storage) -> list[str]:
    if isinstance(storage, MemoryStorage):
        return [*storage.storage, *storage.events]
    prefix = storage.prefixed_key("*")
    return [key.decode() for key in storage.get_connection().scan_iter(prefix)]


def test_the_apps_keys_carry_the_database_name(app, client):
    database = make_url(TEST_DATABASE_URL).database
    client.get("/api/v1/me")  # 401, but counted against the address
    with app.test_request_context():
        throttle.record_failure("account:1")
    keys = _keys(limiter.storage) + _keys(app.extensions["irl_login_limiter"].storage)
    assert any("login-failures" in key for key in keys), keys
    assert any("users.Me" in key for key in keys), keys
    assert all(f"/{database}/" in key for key in keys), keys


def _deployment(name: str) -> Flask:
    """A deployment's failed-login lockout on the shared Redis."""
    app = Flask(name)
    app.config.update(
        DATABASE_URL=TEST_DATABASE_URL,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=f"{PREFIX}-{name}",
        LOGIN_FAILURES_PER_WINDOW=2,
        LOGIN_FAILURE_WINDOW_S=60,
    )
    throttle.init_app(app)
    return app


@pytest.fixture
def shared_redis():
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        client.close()
        pytest.skip("no Redis on 127.0.0.1:6379")
    yield client
    for key in client.scan_iter(f"LIMITS:{PREFIX}-*"):
        client.delete(key)
    client.close()


def test_two_deployments_on_one_redis_keep_their_own_lockouts(shared_redis):
    first, second = _deployment("a"), _deployment("b")
    with first.app_context():
        throttle.record_failure("account:7")
        throttle.record_failure("account:7")
        with pytest.raises(RateLimited):
            throttle.check("account:7")
    with second.app_context():
        throttle.check("account:7")  # the other deployment's account 7 is not locked
        throttle.record_failure("account:7")
        second.extensions["irl_login_limiter"].storage.reset()  # what the tests do
    assert list(shared_redis.scan_iter(f"LIMITS:{PREFIX}-a:*"))
    assert not list(shared_redis.scan_iter(f"LIMITS:{PREFIX}-b:*"))
