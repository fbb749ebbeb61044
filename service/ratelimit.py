"""Rate limits (Flask-Limiter): per user when a valid token is sent, else per address.

Every write counts against ``RATE_LIMIT_WRITES`` and every request against
``RATE_LIMIT_READS``; the nearby searches share ``RATE_LIMIT_NEARBY`` (they are what a
trilateration attack repeats). Counters live in Redis when ``REDIS_URL`` is set (shared
by every worker and host), else in process memory (``make run`` never starts without a
shared store; ``/readyz`` names the one in use). Keys carry the deployment's namespace,
``RATELIMIT_KEY_PREFIX`` (default: the database's name), so deployments and test runs
sharing one Redis never count against each other. Answers carry
``RateLimit-Limit``/``-Remaining``/``-Reset`` (seconds); only a 429 gets the limiter's
``Retry-After`` (a 503 or a 409 keeps the one the app set).

The sign-in endpoints have budgets of their own that fit phones behind carrier-grade NAT,
where thousands of people share one address; they draw on none of the budgets above:
- registration: ``RATE_LIMIT_AUTH`` per address (a burst, then a sustained rate);
- login: the failed-login lockout per account (``service/auth/throttle.py``) plus a
  per-address ceiling, ``RATE_LIMIT_LOGIN_PER_ADDRESS``, high enough for a NAT pool;
- refresh and logout: ``RATE_LIMIT_REFRESH`` per sign-in (the refresh token's family),
  whatever the address; a token that does not verify is counted against its address.

"The address" is the real client's: behind reverse proxies, ``TRUSTED_PROXY_HOPS`` makes
Werkzeug's ``ProxyFix`` take it from ``X-Forwarded-For`` (``service/__init__.py``).
"""

import time
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from sqlalchemy.engine import make_url

from service.auth import sessions
from service.auth.tokens import token_verified

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RESET_HEADER = "RateLimit-Reset"
# Flask-Limiter writes its Retry-After on every answer it counted (a 200 too); it goes to
# this header instead, which becomes Retry-After on a 429 only.
LIMITER_RETRY_HEADER = "X-IRL-Limiter-Retry-After"


def key_prefix(config) -> str:
    """The deployment's namespace in the shared store: ``RATELIMIT_KEY_PREFIX``, else the
    database's name."""
    return config.get("RATELIMIT_KEY_PREFIX") or make_url(config["DATABASE_URL"]).database or "irl"


def storage_options(config) -> dict:
    """Options of the counters' storage: Redis keys under ``LIMITS:<prefix>``, so
    clearing one deployment's counters (tests do) leaves the others'."""
    scheme = config["RATELIMIT_STORAGE_URI"].split("://", 1)[0]
    if scheme.startswith(("redis", "valkey")):
        return {"key_prefix": f"LIMITS:{key_prefix(config)}"}
    return {}


def store_in_use(config) -> str:
    """The counters' storage as /readyz shows it (no password)."""
    uri = config["RATELIMIT_STORAGE_URI"]
    if uri.startswith("memory"):
        return "memory (this process only)"
    parts = urlsplit(uri)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path} (key prefix {key_prefix(config)!r})"


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


def _sign_in() -> str:
    """The bucket of a refresh or logout: the refresh token's sign-in (its family; the
    user for tokens issued before families were in the token), else the address."""
    if "irl_sign_in" not in g:
        body = request.get_json(silent=True)
        token = body.get("refresh_token") if isinstance(body, dict) else None
        g.irl_sign_in = sessions.rate_key(token) or f"ip:{get_remote_address()}"
    return g.irl_sign_in


# They have budgets of their own (below): the write and read budgets would count a whole
# NAT pool as one requester.
SIGN_IN_ENDPOINTS = frozenset({"auth.Register", "auth.Login", "auth.Refresh", "auth.Logout"})


def _exempt_from_application_limits() -> bool:
    return request.method in SAFE_METHODS or request.endpoint in SIGN_IN_ENDPOINTS


limiter = Limiter(
    key_func=_requester,
    # every write, whichever endpoint, draws on one budget per requester
    application_limits=[_config("RATE_LIMIT_WRITES")],
    application_limits_exempt_when=_exempt_from_application_limits,
    # and each endpoint has its own budget for everything
    default_limits=[_config("RATE_LIMIT_READS")],
    headers_enabled=True,
)
nearby = limiter.shared_limit(_config("RATE_LIMIT_NEARBY"), scope="nearby", override_defaults=False)
# verifying an identity makes IRL call a network: a small budget per user
identity_checks = limiter.shared_limit(
    _config("RATE_LIMIT_IDENTITY_CHECKS"), scope="identity-checks", override_defaults=False
)
# The sign-in endpoints (each replaces the default budgets; ``get_remote_address`` is the
# real client's address once ProxyFix has read X-Forwarded-For).
registration = limiter.shared_limit(
    _config("RATE_LIMIT_AUTH"), scope="register", key_func=get_remote_address
)
login = limiter.shared_limit(
    _config("RATE_LIMIT_LOGIN_PER_ADDRESS"), scope="login", key_func=get_remote_address
)
refresh = limiter.shared_limit(_config("RATE_LIMIT_REFRESH"), scope="refresh", key_func=_sign_in)


def init_app(app: Flask, exempt=()) -> None:
    """Bind the limiter to the app (``exempt``: blueprints never limited) and make its
    reset header a number of seconds."""
    app.config.setdefault("RATELIMIT_HEADER_LIMIT", "RateLimit-Limit")
    app.config.setdefault("RATELIMIT_HEADER_REMAINING", "RateLimit-Remaining")
    app.config.setdefault("RATELIMIT_HEADER_RESET", RESET_HEADER)
    app.config["RATELIMIT_HEADER_RETRY_AFTER"] = LIMITER_RETRY_HEADER
    app.config.setdefault("RATELIMIT_HEADER_RETRY_AFTER_VALUE", "delta-seconds")
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)  # Redis down: serve, unlimited
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config["RATELIMIT_KEY_PREFIX"] = key_prefix(app.config)
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", storage_options(app.config))

    @app.after_request
    def _reset_in_seconds(response):
        reset = response.headers.get(RESET_HEADER)
        if reset is not None and reset.isdigit():
            response.headers[RESET_HEADER] = str(max(0, int(reset) - int(time.time())))
        retry_after = response.headers.pop(LIMITER_RETRY_HEADER, None)
        if response.status_code == 429 and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = retry_after or "1"
        return response

    # after the hook above: Flask runs after-request hooks last-registered first
    limiter.init_app(app)
    for blueprint in exempt:
        limiter.exempt(blueprint)
