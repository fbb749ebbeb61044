"""Health, readiness, metrics and the offline Swagger UI assets."""

from flask import Blueprint, jsonify, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from service.database import db
from service.ops import metrics, readiness

blp = Blueprint("ops", __name__)


@blp.get("/healthz")
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz():
    """The database is reachable and migrations are at head (503 otherwise)."""
    state = readiness.check(db.engine)
    response = jsonify(state)
    if not state["ok"]:
        response.status_code = 503
        response.headers["Retry-After"] = "5"
    return response


@blp.get("/metrics")
def prometheus():
    """Prometheus text format."""
    return metrics.exposition()


@blp.get("/api/docs/static/<path:filename>")
def swagger_assets(filename):
    """Swagger UI's files from the installed swagger-ui-bundle (no CDN)."""
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
