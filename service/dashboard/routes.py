"""Serve the owner dashboard and its chart library from this host (never a CDN).

The page is static; it signs in and reads figures through the same JSON API the app
uses (bearer token), so the dashboard sees exactly what an owner may see.
"""

from pathlib import Path

from flask import Blueprint, current_app, send_from_directory

ROOT = Path(__file__).resolve().parents[2]
STATIC = Path(__file__).resolve().parent / "static"
CHART_JS_DIR = ROOT / "node_modules" / "chart.js" / "dist"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

blp = Blueprint("dashboard", __name__, url_prefix="/owner")


@blp.after_request
def _headers(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blp.get("/")
def index():
    """The dashboard page."""
    return send_from_directory(STATIC, "index.html", max_age=0)


@blp.get("/static/<path:name>")
def asset(name: str):
    """The dashboard's own script and style."""
    return send_from_directory(STATIC, name, max_age=300)


@blp.get("/vendor/chart.umd.min.js")
def chart_js():
    """Chart.js, installed from the npm registry (`npm ci`, which `make` runs)."""
    directory = Path(current_app.config.get("CHART_JS_DIR") or CHART_JS_DIR)
    return send_from_directory(directory, "chart.umd.min.js", max_age=3600)
