"""Rate limits (Flask-Limiter): per user when a valid token is sent, else per address.

Every write counts against ``RATE_LIMIT_WRITES`` and every request against
``RATE_LIMIT_READS``; the nearby searches share ``RATE_LIMIT_NEARBY`` (they are what a
trilateration attack repeats); sign-in endpoints have ``RATE_LIMIT_AUTH`` per address on
top of the per-account failed-login throttle. Counters live in Redis when ``REDIS_URL``
is set (shared by every worker and host), else in process memory. Answers carry
``RateLimit-Limit``/``-Remaining``/``-Reset`` (seconds), and a 429 ``Retry-After``.
"""

import time

from flask import Flask, current_app, g, request
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from service.auth.tokens import token_verified

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RESET_HEADER = "RateLimit-Reset"


def _requester() -> str:
    """The bucket: the token's user, or the client address without a valid token
    (worked out once per request: every limit asks)."""
    if "irl_requester" not in g:
        try:
            if not token_verified():  # verifying twice costs ~0.3 ms
                verify_jwt_in_request(optional=True)
            identity = get_jwt_identity()
        except Exception:  # an invalid token is answered 401 by the view, not here
            identity = None
        g.irl_requester = f"user:{identity}" if identity else f"ip:{get_remote_address()}"
    return g.irl_requester


def _config(name: str):
    return lambda: current_app.config[name]


limiter = Limiter(
    key_func=_requester,
    # every write, whichever endpoint, draws on one budget per requester
    application_limits=[_config("RATE_LIMIT_WRITES")],
    application_limits_exempt_when=lambda: request.method in SAFE_METHODS,
    # and each endpoint has its own budget for everything
    default_limits=[_config("RATE_LIMIT_READS")],
    headers_enabled=True,
)
nearby = limiter.shared_limit(_config("RATE_LIMIT_NEARBY"), scope="nearby", override_defaults=False)
# verifying an identity makes IRL call a network: a small budget per user
identity_checks = limiter.shared_limit(
    _config("RATE_LIMIT_IDENTITY_CHECKS"), scope="identity-checks", override_defaults=False
)
sign_in = limiter.shared_limit(
    _config("RATE_LIMIT_AUTH"), scope="auth", key_func=get_remote_address, override_defaults=False
)


def init_app(app: Flask, exempt=()) -> None:
    """Bind the limiter to the app (``exempt``: blueprints never limited) and make its
    reset header a number of seconds."""
    app.config.setdefault("RATELIMIT_HEADER_LIMIT", "RateLimit-Limit")
    app.config.setdefault("RATELIMIT_HEADER_REMAINING", "RateLimit-Remaining")
    app.config.setdefault("RATELIMIT_HEADER_RESET", RESET_HEADER)
    app.config.setdefault("RATELIMIT_HEADER_RETRY_AFTER", "Retry-After")
    app.config.setdefault("RATELIMIT_HEADER_RETRY_AFTER_VALUE", "delta-seconds")
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)  # Redis down: serve, unlimited
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)

    @app.after_request
    def _reset_in_seconds(response):
        reset = response.headers.get(RESET_HEADER)
        if reset is not None and reset.isdigit():
            response.headers[RESET_HEADER] = str(max(0, int(reset) - int(time.time())))
        return response

    # after the hook above: Flask runs after-request hooks last-registered first
    limiter.init_app(app)
    for blueprint in exempt:
        limiter.exempt(blueprint)
