"""The app factory: settings, secrets, extensions and the blueprints, bound in one place."""

import hashlib
import logging
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from service import cli, errors, logs, ratelimit, replicas, retry
from service.admin.routes import blp as admin_blp
from service.api import IrlApi
from service.auth import passwords, throttle, tokens
from service.auth.routes import blp as auth_blp
from service.calendars.routes import blp as calendars_blp
from service.checkins.routes import blp as checkins_blp
from service.claims.routes import blp as claims_blp
from service.common.links import declare_links
from service.common.openapi import finish_document
from service.config import Config
from service.contacts.routes import blp as contacts_blp
from service.dashboard.routes import blp as dashboard_blp
from service.database import db
from service.devices.routes import blp as devices_blp
from service.events.routes import blp as events_blp
from service.footfall.routes import blp as footfall_blp
from service.identities.routes import blp as identities_blp
from service.meetings.routes import blp as meetings_blp
from service.met.routes import blp as met_blp
from service.notifications import outbox
from service.notifications.gateways import KINDS as GATEWAY_KINDS
from service.notifications.routes import blp as notifications_blp
from service.ops import metrics
from service.ops.routes import blp as ops_blp
from service.plans.routes import blp as plans_blp
from service.presence.routes import blp as presence_blp
from service.rewards.routes import blp as rewards_blp
from service.staff.routes import blp as staff_blp
from service.users.routes import blp as users_blp
from service.venues.routes import blp as venues_blp

API_BLUEPRINTS = (
    auth_blp,
    users_blp,
    identities_blp,
    contacts_blp,
    venues_blp,
    checkins_blp,
    presence_blp,
    meetings_blp,
    met_blp,
    plans_blp,
    rewards_blp,
    events_blp,
    calendars_blp,
    notifications_blp,
    devices_blp,
    claims_blp,
    staff_blp,
    footfall_blp,
    admin_blp,
)
SECRET_FILE = Path(__file__).resolve().parents[1] / ".secrets" / "jwt_secret"
LOCATION_SECRET_FILE = SECRET_FILE.with_name("location_secret")
log = logging.getLogger(__name__)
_warned_derived_location_secret = False


def _jwt_secret(configured: str) -> str:
    if configured:
        return configured
    if SECRET_FILE.exists():
        return SECRET_FILE.read_text().strip()
    raise RuntimeError(
        "JWT_SECRET_KEY is not set and .secrets/jwt_secret does not exist; "
        "`make run` generates one."
    )


def derived_location_secret(jwt_key: str) -> str:
    """The grid key of deployments made before LOCATION_SECRET had a file of its own."""
    return hashlib.sha256(b"location-grid:" + jwt_key.encode()).hexdigest()


def _location_secret(configured: str, jwt_key: str) -> str:
    """LOCATION_SECRET, else .secrets/location_secret (``make run`` writes it once), else
    the value derived from the JWT key as before, so nobody's grid moves on upgrade."""
    global _warned_derived_location_secret
    if configured:
        return configured
    if LOCATION_SECRET_FILE.exists():
        return LOCATION_SECRET_FILE.read_text().strip()
    if not _warned_derived_location_secret:
        _warned_derived_location_secret = True
        log.warning(
            "LOCATION_SECRET is not set and %s does not exist: the grid key is derived "
            "from the JWT key, so rotating JWT_SECRET_KEY would move every approximate "
            "user's grid. `make run` writes the file (keeping today's value); or set "
            "LOCATION_SECRET.",
            LOCATION_SECRET_FILE,
        )
    return derived_location_secret(jwt_key)


def _check_push(settings: Config) -> None:
    """Refuse a push gateway the worker could not talk to: an unknown kind, a webhook
    without its signing key, a Gorush or ntfy URL that is not http(s)."""
    kind = settings.PUSH_GATEWAY_KIND
    if kind not in GATEWAY_KINDS:
        raise RuntimeError(
            f"PUSH_GATEWAY_KIND={kind!r} is not a push gateway kind: use one of "
            f"{', '.join(GATEWAY_KINDS)} (default webhook)."
        )
    if not settings.PUSH_GATEWAY_URL:
        return
    if kind == "webhook" and not settings.PUSH_SIGNING_SECRET:
        raise RuntimeError(
            "PUSH_GATEWAY_URL is set but PUSH_SIGNING_SECRET is empty: set the gateway's "
            "HMAC key in PUSH_SIGNING_SECRET (or unset PUSH_GATEWAY_URL to keep "
            "notifications in the inbox only)."
        )
    if kind != "webhook" and not settings.PUSH_GATEWAY_URL.startswith(("http://", "https://")):
        raise RuntimeError(
            f"PUSH_GATEWAY_URL must be the {kind} server's http(s):// base URL "
            f"(e.g. https://{kind}.example), not {settings.PUSH_GATEWAY_URL!r}."
        )


def create_app(config: dict | None = None) -> Flask:
    """Build the app; ``config`` overrides settings read from the environment."""
    app = Flask(__name__)
    settings = Config().update(config)
    logs.configure(level=settings.LOG_LEVEL, kind=settings.LOG_FORMAT)
    _check_push(settings)
    settings.JWT_SECRET_KEY = _jwt_secret(settings.JWT_SECRET_KEY)
    settings.LOCATION_SECRET = _location_secret(settings.LOCATION_SECRET, settings.JWT_SECRET_KEY)
    app.config.from_object(settings)
    app.json.sort_keys = False
    passwords.configure(
        time_cost=app.config["ARGON2_TIME_COST"], memory_cost_kib=app.config["ARGON2_MEMORY_KIB"]
    )

    logs.init_app(app)  # first: its request line comes after every other hook
    db.init_app(app)
    replicas.init_app(app)
    outbox.init_app(app)
    errors.init_app(app)
    tokens.init_app(app)
    throttle.init_app(app)
    metrics.init_app(app)
    api = IrlApi(app)
    for blueprint in API_BLUEPRINTS:
        api.register_blueprint(blueprint)
    finish_document(api)
    declare_links(api)
    retry.init_app(app, API_BLUEPRINTS)
    app.register_blueprint(ops_blp)
    app.register_blueprint(dashboard_blp)
    ratelimit.init_app(app, exempt=(ops_blp, dashboard_blp))
    cli.init_app(app)
    hops = settings.TRUSTED_PROXY_HOPS
    if hops > 0:
        # Outermost: everything sees the client's address (every per-address limit) and
        # scheme as the proxies saw them, read from the last ``hops`` entries of
        # X-Forwarded-For / -Proto only, the ones our proxies appended. Host is not taken
        # from X-Forwarded-Host (the proxy passes Host through).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    return app
