"""gunicorn settings for `make run` (sync workers; the API is stateless)."""

import os

from prometheus_client import multiprocess

worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
timeout = 30
graceful_timeout = 20
accesslog = "-" if os.environ.get("ACCESS_LOG") else None


def child_exit(server, worker):
    """Drop a dead worker's metric files so /metrics stays correct."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Load the offline geocoder's trees before the first request needs them (~1 s)."""
    from geo.cities import city_of
    from geo.coords import LatLon

    city_of(LatLon(0.0, 0.0))
