"""Logs: one line per request, the request's id on every line, no position or secret.

``configure`` points the root logger at stderr in ``LOG_FORMAT`` (``json``: one object a
line, python-json-logger; ``text``) at ``LOG_LEVEL``; ``init_app`` gives each request an
id (a sane ``X-Request-Id`` or a new one), echoes it on every answer and logs the request
line. A route is logged as its URL rule, never as the path and query the client sent:
query strings carry positions and calendar tokens.
"""

import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from functools import lru_cache

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy.exc import StatementError

FORMATS = ("json", "text")
REQUEST_ID_HEADER = "X-Request-Id"
# An incoming id is kept when it is a short run of token characters (a UUID, a trace id);
# anything else (newlines, 10 KB, quotes) is replaced, so nobody writes into the logs.
SANE_REQUEST_ID = re.compile(r"[\w.:@/+=-]{1,128}", re.ASCII)
QUERY_STRING = re.compile(r"\?[^\s\"']*")
CONVERTER_ARGUMENTS = re.compile(r"<(\w+)\([^)]*\):")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# Loggers that write every URL they serve or fetch, query strings and all (werkzeug's
# development server, httpx's client): warnings only. Each request has the app's line.
URL_LOGGERS = ("werkzeug", "httpx", "httpcore")

request_log = logging.getLogger("irl.request")
_base_record_factory = logging.getLogRecordFactory()


class _Json(JsonFormatter):
    """python-json-logger's formatter with an ISO 8601 UTC time in milliseconds."""

    def formatTime(self, record, datefmt=None):
        """The record's creation time, e.g. ``2026-12-06T12:00:00.123+00:00``."""
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


def formatter(kind: str = "json") -> logging.Formatter:
    """The formatter of ``kind`` (``json`` or ``text``)."""
    if kind == "text":
        return logging.Formatter(TEXT_FORMAT, defaults={"request_id": "-"})
    return _Json(
        "{asctime}{levelname}{name}{message}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )


def _checked(*, level: str, kind: str) -> int:
    """``level`` as a number; refuse an unknown format or level, saying what is allowed."""
    if kind not in FORMATS:
        raise RuntimeError(f"LOG_FORMAT={kind!r} is not a log format: use json or text.")
    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        raise RuntimeError(
            f"LOG_LEVEL={level!r} is not a logging level: use DEBUG, INFO, WARNING or ERROR."
        )
    return number


def configure(*, level: str = "INFO", kind: str = "json") -> None:
    """Send every record to stderr in ``kind``'s format from ``level`` up; replaces the
    handler an earlier call installed (the process's last app wins)."""
    number = _checked(level=level, kind=kind)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "irl_logs", False)]:
        root.removeHandler(old)
    # the real stderr: a test runner's or a CLI runner's swapped sys.stderr may be closed
    handler = logging.StreamHandler(sys.__stderr__ or sys.stderr)
    handler.irl_logs = True
    handler.setFormatter(formatter(kind))
    root.addHandler(handler)
    root.setLevel(number)
    for name in URL_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.setLogRecordFactory(_record)


def _record(*args, **kwargs) -> logging.LogRecord:
    """Every record: the request's id inside a request; SQL parameters hidden."""
    record = _base_record_factory(*args, **kwargs)
    if has_request_context() and "request_id" in g:
        record.request_id = g.request_id
    _hide_sql_parameters(record)
    return record


def _hide_sql_parameters(record: logging.LogRecord) -> None:
    """SQLAlchemy prints a failed statement's parameters (positions, tokens) in its
    message and traceback: have every one a record may print leave them out."""
    args = record.args.values() if isinstance(record.args, dict) else record.args or ()
    pending = [*args, record.exc_info[1] if record.exc_info else None]
    seen = set()
    while pending:
        value = pending.pop()
        if not isinstance(value, BaseException) or id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, StatementError):
            value.hide_parameters = True
        pending += [value.__cause__, value.__context__]


def request_id_from(header: str | None) -> str:
    """The client's request id when it is sane, else a new one (32 hex digits)."""
    if header and SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request being served, None outside one (the worker, a command)."""
    if not has_request_context():
        return None
    if "request_id" not in g:
        g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    return g.request_id


def init_app(app: Flask) -> None:
    """Log every request; call it before any other extension's hooks, so its line comes
    last (after the commit) and times everything."""
    app.before_request(_start)
    app.after_request(_finish)


def _start() -> None:
    current_request_id()
    g.log_started = time.perf_counter()


def _finish(response):
    """Echo the request id and log the request line (once, even when Flask finalizes an
    answer twice after an error)."""
    response.headers[REQUEST_ID_HEADER] = current_request_id()
    if g.get("request_logged"):
        return response
    g.request_logged = True
    route = template(request.url_rule.rule) if request.url_rule else None
    started = g.get("log_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
    user_id = _user_id()
    request_log.info(
        "%s %s %s %s ms user %s",
        request.method,
        route or "-",
        response.status_code,
        duration_ms,
        "-" if user_id is None else user_id,
        extra={
            "method": request.method,
            "route": route,
            "status": response.status_code,
            "duration_ms": duration_ms,
            "user_id": user_id,
        },
    )
    return response


@lru_cache(maxsize=512)
def template(rule: str) -> str:
    """A URL rule as logged: converters without their arguments (``<int:venue_id>``)."""
    return CONVERTER_ARGUMENTS.sub(r"<\1:", rule)


def _user_id() -> int | None:
    """The caller: the id ``login_required`` or the rate limiter already read from the
    token, else the token verified here (once; None without a valid one)."""
    if "user_id" in g:
        return g.user_id
    if "Authorization" not in request.headers:
        return None
    # imported here: gunicorn's master imports this module before gevent patches ssl,
    # and the token code brings modules that import ssl's names directly (PyJWT, redis)
    from service.auth.tokens import access_claims

    claims = access_claims()
    return int(claims["sub"]) if claims else None


class WithoutQueryStrings(logging.Filter):
    """Cut query strings out of a record's message (gunicorn logs the URIs of requests it
    could not parse or that failed, with their positions and tokens)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the message without ``?…``; keep the record."""
        message = record.getMessage()
        if "?" in message:
            record.msg, record.args = QUERY_STRING.sub("", message), None
        return True


def gunicorn_logconfig(*, level: str = "INFO", kind: str = "json") -> dict:
    """gunicorn's ``logconfig_dict``: its error log in the app's format on stderr, without
    query strings; its access log off (the app logs every request it answers)."""
    _checked(level=level, kind=kind)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"irl": {"()": formatter, "kind": kind}},
        "filters": {"no_query": {"()": WithoutQueryStrings}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "irl",
                "filters": ["no_query"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level.upper(), "handlers": []},  # each app adds its own
        "loggers": {
            "gunicorn.error": {"level": level.upper(), "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"handlers": [], "propagate": False},
        },
    }
