"""Rate limits: per user when a valid token is sent, else per address.

Every write counts against ``RATE_LIMIT_WRITES`` and every request against its
endpoint's ``RATE_LIMIT_READS``; the nearby searches share ``RATE_LIMIT_NEARBY`` (they are
what a trilateration attack repeats). Counters live in Redis when ``REDIS_URL`` is set
(shared by every worker and host), else in process memory (``make run`` never starts
without a shared store; ``/readyz`` names the one in use). Keys carry the deployment's
namespace, ``RATELIMIT_KEY_PREFIX`` (default: the database's name), so deployments and
test runs sharing one Redis never count against each other.

Every budget a request draws on is counted before its view runs, all in one round trip
to the store (``common.window_counters``), and counting stops at the first one used up.
Answers carry ``RateLimit-Limit``/``-Remaining``/``-Reset`` (seconds) of the budget the
endpoint declares (nearby, identity checks, sign-in), else of its read budget; a 429
describes the budget that refused and carries ``Retry-After`` (only a 429 gets one from
here: a 503 or a 409 keeps the one the app set). When the store does not answer, requests
are served and counted in this process until it does again.

The sign-in endpoints have budgets of their own that fit phones behind carrier-grade NAT,
where thousands of people share one address; they draw on none of the budgets above:
- registration: ``RATE_LIMIT_AUTH`` per address (a burst, then a sustained rate);
- login: the failed-login lockout per account (``service/auth/throttle.py``) plus a
  per-address ceiling, ``RATE_LIMIT_LOGIN_PER_ADDRESS``, high enough for a NAT pool;
- refresh and logout: ``RATE_LIMIT_REFRESH`` per sign-in (the refresh token's family),
  whatever the address; a token that does not verify is counted against its address.

"The address" is the real client's: behind reverse proxies, ``TRUSTED_PROXY_HOPS`` makes
Werkzeug's ``ProxyFix`` take it from ``X-Forwarded-For`` (``service/app.py``).
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlsplit

from flask import Flask, current_app, g, has_app_context, request
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from sqlalchemy.engine import make_url

from service.auth import sessions, tokens
from service.common.window_counters import Count, InProcessStorage, WindowCounters
from service.errors import RateLimited

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRY_STORE_MAX_S = 60  # a store that failed is tried again after 1, 2, 4 ... 60 s
log = logging.getLogger(__name__)


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


def remote_address() -> str:
    """The client's address (ProxyFix has put the real one there behind proxies)."""
    return request.remote_addr or "127.0.0.1"


def _requester() -> str:
    """The bucket: the token's user, or the client address without a valid token (an
    invalid token is answered 401 by the view, not here)."""
    user_id = tokens.access_identity()
    return f"user:{user_id}" if user_id else f"ip:{remote_address()}"


def _sign_in() -> str:
    """The bucket of a refresh or logout: the refresh token's sign-in (its family; the
    user for tokens issued before families were in the token), else the address."""
    body = request.get_json(silent=True)
    token = body.get("refresh_token") if isinstance(body, dict) else None
    return sessions.rate_key(token) or f"ip:{remote_address()}"


@dataclass(frozen=True)
class Budget:
    """A rule: the setting that holds its limits ("60 per minute;1000 per hour"), the
    scope its counters are shared under (None: each endpoint counts its own), whose
    counter a request uses, and whether it replaces the write and read budgets."""

    setting: str
    scope: str | None = None
    requester: Callable[[], str] = _requester
    alone: bool = False

    def __call__(self, view):
        """Declare this budget on a view (its limits are counted before it runs)."""
        view.irl_budgets = (*getattr(view, "irl_budgets", ()), self)
        return view


# every write, whichever endpoint, draws on one budget per requester
WRITES = Budget("RATE_LIMIT_WRITES", scope="global")
# and each endpoint has its own budget for everything
READS = Budget("RATE_LIMIT_READS")
nearby = Budget("RATE_LIMIT_NEARBY", scope="nearby")
# verifying an identity makes IRL call a network: a small budget per user
identity_checks = Budget("RATE_LIMIT_IDENTITY_CHECKS", scope="identity-checks")
# The sign-in endpoints (replacing the budgets above).
registration = Budget("RATE_LIMIT_AUTH", scope="register", requester=remote_address, alone=True)
login = Budget("RATE_LIMIT_LOGIN_PER_ADDRESS", scope="login", requester=remote_address, alone=True)
refresh = Budget("RATE_LIMIT_REFRESH", scope="refresh", requester=_sign_in, alone=True)


@lru_cache(maxsize=64)
def _items(limits: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(limits)) if limits else ()


def _declared(view, method: str) -> tuple[Budget, ...]:
    """The budgets a view declares for this method (on a MethodView, its method's)."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        view = getattr(view_class, method.lower(), None)
        if view is None and method == "HEAD":
            view = getattr(view_class, "get", None)
    return getattr(view, "irl_budgets", ())


def _budgets(view, method: str) -> tuple[Budget, ...]:
    """What a request draws on, the headers' budget first: the view's declared budgets,
    then (unless they replace them) its read budget and, for a write, the write one."""
    declared = _declared(view, method)
    if any(budget.alone for budget in declared):
        return declared
    return (*declared, READS) if method in SAFE_METHODS else (*declared, READS, WRITES)


class RateLimits:
    """Counts each request against its budgets before the view runs."""

    def __init__(self):
        self._last_storage: Storage | None = None

    def init_app(self, app: Flask, exempt=()) -> None:
        """Count every request of ``app`` but those of the ``exempt`` blueprints."""
        app.config["RATELIMIT_KEY_PREFIX"] = key_prefix(app.config)
        options = app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", storage_options(app.config))
        uri = app.config["RATELIMIT_STORAGE_URI"]
        storage = (
            InProcessStorage() if uri.startswith("memory") else storage_from_string(uri, **options)
        )
        app.extensions["irl_rate_limits"] = AppRateLimits(storage, {bp.name for bp in exempt})
        self._last_storage = storage
        app.before_request(_count_request)
        app.after_request(_add_headers)

    @property
    def storage(self) -> Storage:
        """The counters' storage (of the current app, else of the last one set up)."""
        if has_app_context() and "irl_rate_limits" in current_app.extensions:
            return current_app.extensions["irl_rate_limits"].storage
        assert self._last_storage is not None, "init_app first"
        return self._last_storage

    def reset(self) -> None:
        """Clear every counter of this deployment (tests do)."""
        self.storage.reset()
        if has_app_context():
            current_app.extensions["irl_rate_limits"].fallback.storage.reset()


class AppRateLimits:
    """One app's counters, the in-process ones used while the store is down, and which
    budgets each endpoint draws on."""

    def __init__(self, storage: Storage, exempt: set[str]):
        self.storage = storage
        self.counters = WindowCounters(storage)
        self.fallback = WindowCounters(InProcessStorage())
        self.exempt = exempt
        self._budgets: dict[tuple[str, str], tuple[Budget, ...]] = {}
        self._down_until = 0.0
        self._down_for = 0.0

    def budgets(self, endpoint: str, method: str) -> tuple[Budget, ...]:
        """What a request to ``endpoint`` draws on (worked out once per endpoint)."""
        budgets = self._budgets.get((endpoint, method))
        if budgets is None:
            budgets = _budgets(current_app.view_functions[endpoint], method)
            self._budgets[(endpoint, method)] = budgets
        return budgets

    def hit_all(self, counters: list[tuple[str, RateLimitItem]]) -> list[Count]:
        """Count in the store; while it does not answer, in this process (no request
        fails because it is down), trying it again after a growing pause."""
        if time.monotonic() >= self._down_until:
            try:
                counts = self.counters.hit_all(counters)
                self._down_for = 0.0
                return counts
            except (StorageError, self.storage.base_exceptions) as exc:
                self._down_for = min(RETRY_STORE_MAX_S, max(1.0, 2 * self._down_for))
                self._down_until = time.monotonic() + self._down_for
                log.warning(
                    "rate-limit store unreachable (%s): counting in this process for %.0f s",
                    exc,
                    self._down_for,
                )
        return self.fallback.hit_all(counters)


class _Counter(NamedTuple):
    key: str
    item: RateLimitItem
    rank: int  # the order in which the headers would describe its budget


def _counters(budgets: tuple[Budget, ...], endpoint: str) -> list[_Counter]:
    """The request's counters, shortest windows first (a burst refused does not use up
    the longer windows)."""
    config = current_app.config
    prefix = config["RATELIMIT_KEY_PREFIX"]
    counters = []
    for rank, budget in enumerate(budgets):
        items = _items(config[budget.setting])
        if items:
            who = budget.requester()
            scope = budget.scope or endpoint
            counters += [_Counter(item.key_for(prefix, who, scope), item, rank) for item in items]
    return sorted(counters, key=lambda counter: counter.item.get_expiry())


def _count_request() -> None:
    """Count the request against each of its budgets; 429 when one is used up."""
    limits: AppRateLimits = current_app.extensions["irl_rate_limits"]
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static" or request.blueprint in limits.exempt:
        return
    counters = _counters(limits.budgets(endpoint, request.method), endpoint)
    counts = limits.hit_all([(counter.key, counter.item) for counter in counters])
    if not counts:
        return
    if counts[-1].exceeded:
        g.irl_rate_count = refused = counts[-1]
        raise RateLimited(
            f"Rate limit exceeded ({counters[len(counts) - 1].item}); "
            f"try again in {max(1, refused.reset_s)} s.",
            retry_after=refused.reset_s,
        )
    g.irl_rate_count = min(zip(counts, counters, strict=False), key=lambda pair: pair[1].rank)[0]


def _add_headers(response):
    count = g.get("irl_rate_count")
    if count is not None:
        response.headers["RateLimit-Limit"] = str(count.amount)
        response.headers["RateLimit-Remaining"] = str(count.remaining)
        response.headers["RateLimit-Reset"] = str(count.reset_s)
    return response


limiter = RateLimits()


def init_app(app: Flask, exempt=()) -> None:
    """Count the app's requests against their budgets (``exempt``: blueprints never
    limited)."""
    limiter.init_app(app, exempt)
