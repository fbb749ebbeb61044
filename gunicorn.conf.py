"""gunicorn settings for `make run`.

gevent workers: each request, and each open notification stream (Server-Sent Events
held open for minutes), is a greenlet rather than a thread, so one worker holds thousands
of streams while still serving check-ins; psycopg 3 and httpx cooperate with gevent.
``GUNICORN_WORKER_CLASS=gthread`` switches back to threads (benchmarks compare both).
"""

import os

from prometheus_client import multiprocess

from service import logs
from service.config import Config

worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", 2000))
threads = int(os.environ.get("GUNICORN_THREADS", 4))  # gthread only
timeout = 30
graceful_timeout = 20
# No access log of gunicorn's own: the app writes one line per request (service/logs.py:
# the route template, never the query string with its positions and calendar tokens, and
# the request id). gunicorn's error log takes the app's LOG_FORMAT and loses query strings.
accesslog = None
_settings = Config()
logconfig_dict = logs.gunicorn_logconfig(level=_settings.LOG_LEVEL, kind=_settings.LOG_FORMAT)
# One shared control socket path per user would make parallel servers (tests, benchmarks,
# `make run`) step on each other; nothing here uses it.
control_socket_disable = True
# The longest request line gunicorn allows; longer ones get its own 414 page (declared in
# the OpenAPI document), shorter ones reach the API's validation (cursors are ≤ 200).
limit_request_line = 8190


def on_starting(server):
    """Load the offline geocoder and time-zone polygons once, in the master, before any
    worker forks: each worker used to load them itself (~2.5 s each, four workers on two
    cores), so gunicorn said "Listening" long before it could answer. Warn when the rate
    limits would count per worker (``make run`` always gives them a shared Redis)."""
    from geo.cities import city_of
    from geo.coords import LatLon
    from geo.timezones import timezone_at

    origin = LatLon(0.0, 0.0)
    city_of(origin)
    timezone_at(origin)
    storage = os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL") or ""
    if server.cfg.workers > 1 and not storage:
        server.log.warning(
            "REDIS_URL is not set: each of the %d workers counts rate limits and failed "
            "logins in its own memory (a limit of 10 lets %d through); `make run` starts "
            "Redis, or set REDIS_URL",
            server.cfg.workers,
            10 * server.cfg.workers,
        )


def child_exit(server, worker):
    """Drop a dead worker's metric files so /metrics stays correct."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Under gevent, end open notification streams as soon as the worker is told to stop,
    so a restart does not wait out ``graceful_timeout`` and clients reconnect elsewhere
    (the geocoder came loaded from the master: ``on_starting``)."""
    if worker_class == "gevent":
        import gevent

        from service.notifications.stream import close_all_streams

        def end_streams_on_shutdown():
            while worker.alive:
                gevent.sleep(0.5)
            close_all_streams()

        gevent.spawn(end_streams_on_shutdown)
