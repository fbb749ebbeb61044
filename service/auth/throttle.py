"""Failed-login throttling per account (limits' moving window; Redis or memory).

It shares the rate limits' store and their namespace (``RATELIMIT_KEY_PREFIX``), so every
worker sees the same count and two deployments on one Redis never lock each other out.
"""

import time

from flask import Flask, current_app
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from service.errors import RateLimited
from service.ratelimit import key_prefix, storage_options

SCOPE = "login-failures"


def init_app(app: Flask) -> None:
    """Create the limiter on the configured storage."""
    storage = storage_from_string(
        app.config["RATELIMIT_STORAGE_URI"], **storage_options(app.config)
    )
    app.extensions["irl_login_limiter"] = MovingWindowRateLimiter(storage)
    app.extensions["irl_login_key_prefix"] = key_prefix(app.config)


def _item() -> RateLimitItemPerSecond:
    cfg = current_app.config
    return RateLimitItemPerSecond(cfg["LOGIN_FAILURES_PER_WINDOW"], cfg["LOGIN_FAILURE_WINDOW_S"])


def _keys(account_key: str) -> tuple[str, str, str]:
    return current_app.extensions["irl_login_key_prefix"], SCOPE, account_key


def check(account_key: str) -> None:
    """Raise 429 while the account has used up its failed attempts in the window."""
    limiter = current_app.extensions["irl_login_limiter"]
    item = _item()
    if limiter.test(item, *_keys(account_key)):
        return
    reset_at, _remaining = limiter.get_window_stats(item, *_keys(account_key))
    raise RateLimited(
        "Too many failed logins for this account; try again later.",
        retry_after=int(reset_at - time.time()) + 1,
    )


def record_failure(account_key: str) -> None:
    """Count one failed attempt against the account."""
    current_app.extensions["irl_login_limiter"].hit(_item(), *_keys(account_key))
