"""Failed-login throttling per account (limits' moving window; Redis or memory)."""

import time

from flask import Flask, current_app
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from service.errors import RateLimited


def init_app(app: Flask) -> None:
    """Create the limiter on the configured storage."""
    storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions["irl_login_limiter"] = MovingWindowRateLimiter(storage)


def _item() -> RateLimitItemPerSecond:
    cfg = current_app.config
    return RateLimitItemPerSecond(cfg["LOGIN_FAILURES_PER_WINDOW"], cfg["LOGIN_FAILURE_WINDOW_S"])


def check(account_key: str) -> None:
    """Raise 429 while the account has used up its failed attempts in the window."""
    limiter = current_app.extensions["irl_login_limiter"]
    item = _item()
    if limiter.test(item, "login-failures", account_key):
        return
    reset_at, _remaining = limiter.get_window_stats(item, "login-failures", account_key)
    raise RateLimited(
        "Too many failed logins for this account; try again later.",
        retry_after=int(reset_at - time.time()) + 1,
    )


def record_failure(account_key: str) -> None:
    """Count one failed attempt against the account."""
    current_app.extensions["irl_login_limiter"].hit(_item(), "login-failures", account_key)
