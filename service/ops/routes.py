"""Health, readiness, metrics and the offline Swagger UI assets."""

from flask import Blueprint, current_app, jsonify, redirect, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from service.database import db
from service.ops import metrics, readiness
from service.ratelimit import store_in_use

blp = Blueprint("ops", __name__)


@blp.get("/healthz")
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz():
    """The database is reachable and migrations are at head (503 otherwise); names the
    store the rate limits and failed-login lockout count in."""
    state = readiness.check(db.engine)
    state["rate_limit_store"] = store_in_use(current_app.config)
    response = jsonify(state)
    if not state["ok"]:
        response.status_code = 503
        response.headers["Retry-After"] = "5"
    return response


@blp.get("/metrics")
def prometheus():
    """Prometheus text format."""
    return metrics.exposition()


@blp.get("/api/docs/")
def docs_with_slash():
    """The interactive docs live at /api/docs; the address with a slash leads there."""
    return redirect("/api/docs", code=308)


@blp.get("/api/docs/static/<path:filename>")
def swagger_assets(filename):
    """Swagger UI's files from the installed swagger-ui-bundle (no CDN)."""
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
