"""Prometheus metrics: request counts and latencies per endpoint.

Under gunicorn, ``PROMETHEUS_MULTIPROC_DIR`` makes every worker write to shared files
that ``/metrics`` aggregates.
"""

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter("irl_http_requests_total", "HTTP requests", ["method", "endpoint", "status"])
LATENCY = Histogram(
    "irl_http_request_seconds",
    "HTTP request latency",
    ["method", "endpoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
NOTIFICATIONS = Counter("irl_notifications_total", "Notifications written", ["kind"])
PUSH_DELIVERIES = Counter(
    "irl_push_deliveries_total", "Push gateway delivery attempts by outcome", ["outcome"]
)
OPEN_STREAMS = Gauge(
    "irl_notification_streams_open", "Open notification streams", multiprocess_mode="livesum"
)


def init_app(app: Flask) -> None:
    """Time every request."""

    @app.before_request
    def _start():
        g.request_started = time.perf_counter()

    @app.after_request
    def _record(response):
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        started = g.get("request_started")
        if started is not None:
            LATENCY.labels(request.method, endpoint).observe(time.perf_counter() - started)
        REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
        return response


def exposition() -> Response:
    """The Prometheus text format, aggregated across workers when multiprocess."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    # content_type, not mimetype: CONTENT_TYPE_LATEST already names its charset
    return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)
