"""Configuration read from the environment."""

import os
from datetime import timedelta

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/irl"


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


class Config:
    """Settings for one app; every value can be overridden from the environment."""

    def __init__(self):
        self.DATABASE_URL = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
        # Read replicas for lag-tolerant reads (comma-separated URLs; none: all on primary).
        self.DATABASE_REPLICA_URLS = [
            url.strip()
            for url in os.environ.get("DATABASE_REPLICA_URLS", "").split(",")
            if url.strip()
        ]
        self.DB_POOL_SIZE = _int("DB_POOL_SIZE", 5)
        self.DB_MAX_OVERFLOW = _int("DB_MAX_OVERFLOW", 5)
        self.DB_POOL_TIMEOUT_S = _int("DB_POOL_TIMEOUT_S", 5)
        self.DB_STATEMENT_TIMEOUT_MS = _int("DB_STATEMENT_TIMEOUT_MS", 15000)
        self.DB_LOCK_TIMEOUT_MS = _int("DB_LOCK_TIMEOUT_MS", 10000)

        self.JWT_SECRET_KEY = os.environ.get("JWT_SECRET_KEY", "")
        self.JWT_ALGORITHM = "HS256"
        self.JWT_DECODE_ALGORITHMS = ["HS256"]
        # minutes, fractions allowed (a test of token renewal uses seconds)
        self.JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=_float("JWT_ACCESS_MINUTES", 15.0))
        self.JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=_int("JWT_REFRESH_DAYS", 30))
        self.JWT_TOKEN_LOCATION = ["headers"]
        self.JWT_ERROR_MESSAGE_KEY = "message"

        # Rate-limit counters and the failed-login lockout: Redis when REDIS_URL is set
        # (shared by all workers; `make run` never starts without it), else this process's
        # memory (one process: tests, commands); /readyz names the store in use. Keys are
        # namespaced per deployment: RATELIMIT_KEY_PREFIX, empty = the database's name.
        self.REDIS_URL = os.environ.get("REDIS_URL", "")
        self.RATELIMIT_STORAGE_URI = os.environ.get(
            "RATELIMIT_STORAGE_URI", self.REDIS_URL or "memory://"
        )
        self.RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "")
        self.RATE_LIMIT_WRITES = os.environ.get("RATE_LIMIT_WRITES", "120 per minute")
        self.RATE_LIMIT_READS = os.environ.get("RATE_LIMIT_READS", "600 per minute")
        self.RATE_LIMIT_NEARBY = os.environ.get("RATE_LIMIT_NEARBY", "60 per minute")
        # Sign-in endpoints fit phones behind carrier-grade NAT (thousands share an
        # address): new accounts per address, a burst then a sustained rate ...
        self.RATE_LIMIT_AUTH = os.environ.get("RATE_LIMIT_AUTH", "20 per minute;200 per hour")
        # ... logins per address, only a ceiling (each account has its failed-login lockout)
        self.RATE_LIMIT_LOGIN_PER_ADDRESS = os.environ.get(
            "RATE_LIMIT_LOGIN_PER_ADDRESS", "300 per minute"
        )
        # ... refreshes (and sign-outs) per sign-in, whatever the address
        self.RATE_LIMIT_REFRESH = os.environ.get("RATE_LIMIT_REFRESH", "20 per minute")
        # X-Forwarded-For hops to trust (the reverse proxies in front); 0: use the peer.
        self.TRUSTED_PROXY_HOPS = _int("TRUSTED_PROXY_HOPS", 0)
        self.RATE_LIMIT_IDENTITY_CHECKS = os.environ.get(
            "RATE_LIMIT_IDENTITY_CHECKS", "10 per minute"
        )
        self.LOGIN_FAILURES_PER_WINDOW = _int("LOGIN_FAILURES_PER_WINDOW", 10)
        self.LOGIN_FAILURE_WINDOW_S = _int("LOGIN_FAILURE_WINDOW_S", 15 * 60)
        self.CHECKINS_PER_HOUR = _int("CHECKINS_PER_HOUR", 30)

        self.POINTS_CHECKIN = _int("POINTS_CHECKIN", 5)
        self.POINTS_FIRST_VISIT = _int("POINTS_FIRST_VISIT", 10)
        self.POINTS_FIRST_MEETING = _int("POINTS_FIRST_MEETING", 50)
        self.POINTS_MEETING = _int("POINTS_MEETING", 10)
        self.POINTS_EVENT = _int("POINTS_EVENT", 10)
        self.POINTS_MAYORSHIP = _int("POINTS_MAYORSHIP", 25)
        self.POINTS_STREAK_DAY = _int("POINTS_STREAK_DAY", 2)
        self.POINTS_STREAK_MAX = _int("POINTS_STREAK_MAX", 20)
        # Secret behind each user's grid offset for approximate locations.
        self.LOCATION_SECRET = os.environ.get("LOCATION_SECRET", "")

        # Notifications: the live stream's keep-alive, and the push gateway (off if unset).
        self.STREAM_HEARTBEAT_S = _float("STREAM_HEARTBEAT_S", 15.0)
        self.PUSH_GATEWAY_URL = os.environ.get("PUSH_GATEWAY_URL", "")
        # What speaks at that URL: webhook (IRL's signed JSON), gorush or ntfy.
        self.PUSH_GATEWAY_KIND = os.environ.get("PUSH_GATEWAY_KIND", "webhook").strip().lower()
        self.PUSH_SIGNING_SECRET = os.environ.get("PUSH_SIGNING_SECRET", "")
        # gorush / ntfy: sent as Authorization: Bearer (an ntfy access token tk_...).
        self.PUSH_GATEWAY_TOKEN = os.environ.get("PUSH_GATEWAY_TOKEN", "")
        # the right-hand side of every calendar UID (event-<id>@...): set once, never change
        self.CALENDAR_UID_DOMAIN = os.environ.get("CALENDAR_UID_DOMAIN", "irl.invalid")
        self.PUSH_TIMEOUT_S = _float("PUSH_TIMEOUT_S", 5.0)
        self.PUSH_MAX_ATTEMPTS = _int("PUSH_MAX_ATTEMPTS", 8)
        self.PUSH_RETRY_BASE_S = _float("PUSH_RETRY_BASE_S", 2.0)
        self.PUSH_RETRY_MAX_S = _float("PUSH_RETRY_MAX_S", 900.0)

        # Online identities: where each network's public profile is read (tests point these
        # at a local server), how long and how much of an answer to read.
        self.MASTODON_URL_TEMPLATE = os.environ.get("MASTODON_URL_TEMPLATE", "https://{instance}")
        self.BLUESKY_API_URL = os.environ.get("BLUESKY_API_URL", "https://public.api.bsky.app")
        self.GITHUB_API_URL = os.environ.get("GITHUB_API_URL", "https://api.github.com")
        self.IDENTITY_FETCH_TIMEOUT_S = _float("IDENTITY_FETCH_TIMEOUT_S", 5.0)
        self.IDENTITY_FETCH_MAX_BYTES = _int("IDENTITY_FETCH_MAX_BYTES", 256 * 1024)
        self.PENDING_FOLLOWS_MAX = _int("PENDING_FOLLOWS_MAX", 5000)
        self.PENDING_FOLLOWS_DAYS = _int("PENDING_FOLLOWS_DAYS", 180)
        # OAuth 2 providers: OAUTH_<NETWORK>_CLIENT_ID, _CLIENT_SECRET, _AUTHORIZE_URL,
        # _TOKEN_URL, _USERINFO_URL, _SCOPE (service/identities/oauth.py has the defaults).
        for key, value in os.environ.items():
            if key.startswith("OAUTH_"):
                setattr(self, key, value)
        # Where the OAuth callback sends the browser when done (e.g. the app's own
        # irl://identities link); unset: the callback answers JSON.
        self.OAUTH_DONE_URL = os.environ.get("OAUTH_DONE_URL", "")
        # The public origin of the API (https://api.example), for the OAuth redirect URI
        # registered with each provider; unset: the request's own host.
        self.PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")

        self.ARGON2_TIME_COST = _int("ARGON2_TIME_COST", 3)
        self.ARGON2_MEMORY_KIB = _int("ARGON2_MEMORY_KIB", 65536)

        self.MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 1024 * 1024)

        # Logs (service/logs.py): json (one object a line) or text; a logging level name.
        self.LOG_FORMAT = os.environ.get("LOG_FORMAT", "json").strip().lower()
        self.LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").strip().upper()

        self.API_TITLE = "IRL"
        self.API_VERSION = "v1"
        self.OPENAPI_VERSION = "3.0.3"
        self.OPENAPI_URL_PREFIX = "/api"
        self.OPENAPI_JSON_PATH = "v1/openapi.json"
        self.OPENAPI_SWAGGER_UI_PATH = "docs"
        self.OPENAPI_SWAGGER_UI_URL = "/api/docs/static/"
        self.API_SPEC_OPTIONS = {
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
            "info": {
                "description": "Check-ins that turn online contacts into meetings.\n\n"
                "Every answer carries `X-Request-Id`: the one the request sent (1 to 128 "
                "letters, digits and `_.:@/+=-`) or, failing that, a new one. It names the "
                "request in the server's logs: quote it when reporting a problem."
            },
        }

    def update(self, overrides: dict | None) -> "Config":
        """Apply test or caller overrides and return self."""
        for key, value in (overrides or {}).items():
            setattr(self, key, value)
        return self
