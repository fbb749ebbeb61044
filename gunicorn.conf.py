"""gunicorn settings for `make run`.

gevent workers: each request, and each open notification stream (Server-Sent Events
held open for minutes), is a greenlet rather than a thread, so one worker holds thousands
of streams while still serving check-ins; psycopg 3 and httpx cooperate with gevent.
``GUNICORN_WORKER_CLASS=gthread`` switches back to threads (benchmarks compare both).
"""

import os

from prometheus_client import multiprocess

worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", 2000))
threads = int(os.environ.get("GUNICORN_THREADS", 4))  # gthread only
timeout = 30
graceful_timeout = 20
accesslog = "-" if os.environ.get("ACCESS_LOG") else None
# One shared control socket path per user would make parallel servers (tests, benchmarks,
# `make run`) step on each other; nothing here uses it.
control_socket_disable = True
# The longest request line gunicorn allows; longer ones get its own 414 page (declared in
# the OpenAPI document), shorter ones reach the API's validation (cursors are ≤ 200).
limit_request_line = 8190


def child_exit(server, worker):
    """Drop a dead worker's metric files so /metrics stays correct."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Load the offline geocoder's trees before the first request needs them (~1 s);
    under gevent, end open notification streams as soon as the worker is told to stop, so
    a restart does not wait out ``graceful_timeout`` and clients reconnect elsewhere."""
    from geo.cities import city_of
    from geo.coords import LatLon

    city_of(LatLon(0.0, 0.0))
    if worker_class == "gevent":
        import gevent

        from service.notifications.stream import close_all_streams

        def end_streams_on_shutdown():
            while worker.alive:
                gevent.sleep(0.5)
            close_all_streams()

        gevent.spawn(end_streams_on_shutdown)
