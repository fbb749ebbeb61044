"""Local stand-ins for the push servers operators run: Gorush and ntfy.

Each checks a request the way the real server does (its route, its JSON binding, its
topic rule, its authentication) and answers in its real format: Gorush's
``{"counts", "logs", "success": "ok"}`` or ``{"code", "message"}``, ntfy's published
message or ``{"code", "http", "error"}``. A test scripts the statuses of well-formed
requests (the last one repeats) to play a failing server. Sources: appleboy/gorush
``router/server.go`` and ``notify/notification.go``; binwiederhier/ntfy
``server/server.go``, ``server/errors.go`` and ``server/types.go``.
"""

import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"
NTFY_TOPIC = re.compile(r"[-_A-Za-z0-9]{1,64}")
GORUSH_MAX_NOTIFICATIONS = 100  # gorush's core.max_notification default


class FakeServer:
    """A threaded HTTP server that records every request and answers through
    ``answer(method, path, headers, body) -> (status, json_body)``."""

    def __init__(self, statuses=(200,)):
        self.statuses = list(statuses)
        self.requests: list[dict] = []  # every request, well-formed or not
        self.accepted: list[dict] = []  # the well-formed ones, parsed
        self.arrived = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, answer = fake.receive(self.command, self.path, dict(self.headers), body)
                raw = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_POST = do_PUT = do_GET = _serve

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{HOST}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def receive(self, method: str, path: str, headers: dict, body: bytes):
        with self.arrived:
            self.requests.append({"method": method, "path": path, "headers": headers, "body": body})
            self.arrived.notify_all()
        return self.answer(method, path, headers, body)

    def scripted(self) -> int:
        """The next scripted status for a well-formed request."""
        return self.statuses[min(len(self.accepted) - 1, len(self.statuses) - 1)]

    def accept(self, parsed: dict, headers: dict) -> int:
        with self.arrived:
            self.accepted.append({"json": parsed, "headers": headers})
            self.arrived.notify_all()
            return self.scripted()

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[dict]:
        """Block until ``count`` well-formed requests arrived (or fail)."""
        deadline = time.monotonic() + timeout_s
        with self.arrived:
            while len(self.accepted) < count:
                if not self.arrived.wait(max(0.0, deadline - time.monotonic())):
                    raise AssertionError(f"{len(self.accepted)} accepted, wanted {count}")
        return self.accepted

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeGorush(FakeServer):
    """Gorush's ``POST /api/push``; ``failed_tokens`` are reported in ``logs`` the way
    Gorush's sync mode reports tokens APNs or FCM refused."""

    def __init__(self, statuses=(200,), failed_tokens=()):
        self.failed_tokens = set(failed_tokens)
        super().__init__(statuses)

    def answer(self, method, path, headers, body):
        if (method, path) != ("POST", "/api/push"):
            return 404, b"404 page not found"  # gin's answer for an unknown route
        form = _gorush_form(body)
        if form is None:
            return 400, {"code": 400, "message": "Missing notifications field."}
        if not form:
            return 400, {"code": 400, "message": "Notifications field is empty."}
        if len(form) > GORUSH_MAX_NOTIFICATIONS:
            message = f"Number of notifications({len(form)}) over limit(100)"
            return 400, {"code": 400, "message": message}
        status = self.accept({"notifications": form}, headers)
        if status != 200:
            return status, {"code": status, "message": "upstream trouble"}
        logs = [
            {
                "type": "failed-push",
                "platform": {1: "ios", 2: "android"}.get(n["platform"], "huawei"),
                "token": token,
                "message": n.get("message", ""),
                "error": "Unregistered",
            }
            for n in form
            for token in n.get("tokens") or []
            if token in self.failed_tokens
        ]
        counts = sum(len(n.get("tokens") or []) for n in form)
        return 200, {"counts": counts, "logs": logs, "success": "ok"}


# Go's encoding/json into notify.PushNotification: a wrong JSON type fails the binding
_GORUSH_TYPES = {
    "tokens": list,
    "platform": int,
    "message": str,
    "title": str,
    "priority": str,
    "data": dict,
    "collapse_id": str,
    "collapse_key": str,
    "android": dict,
    "content_available": bool,
    "topic": str,
}


def _gorush_form(body: bytes) -> list | None:
    """The ``notifications`` list as gin binds it, or None where it answers 400."""
    try:
        form = json.loads(body)
    except ValueError:
        return None
    if not isinstance(form, dict) or not isinstance(form.get("notifications"), list):
        return None  # binding:"required" on the slice
    for entry in form["notifications"]:
        if not isinstance(entry, dict):
            return None
        for key, kind in _GORUSH_TYPES.items():
            value = entry.get(key)
            if value is not None and (
                not isinstance(value, kind) or (kind is int and isinstance(value, bool))
            ):
                return None
        if not all(isinstance(t, str) for t in entry.get("tokens") or []):
            return None
    return form["notifications"]


class FakeNtfy(FakeServer):
    """ntfy's JSON publishing at ``POST /``; with ``token`` set, the server denies
    anonymous writes (403) and refuses any other token (401)."""

    def __init__(self, statuses=(200,), token: str | None = None):
        self.token = token
        super().__init__(statuses)

    def answer(self, method, path, headers, body):
        if method not in ("POST", "PUT") or path != "/":
            return 404, _ntfy_error(40401, 404, "page not found")
        if self.token is not None:
            given = headers.get("Authorization")
            if given is None:
                return 403, _ntfy_error(40301, 403, "forbidden")
            if given != f"Bearer {self.token}":
                return 401, _ntfy_error(40101, 401, "unauthorized")
        try:
            message = json.loads(body)
        except ValueError:
            message = None
        if not isinstance(message, dict) or not _ntfy_types_ok(message):
            error = "invalid request: request body must be valid JSON"
            return 400, _ntfy_error(40024, 400, error)
        if not NTFY_TOPIC.fullmatch(message.get("topic") or ""):
            return 400, _ntfy_error(40009, 400, "invalid request: topic invalid")
        if not 0 <= message.get("priority", 0) <= 5:
            return 400, _ntfy_error(40007, 400, "invalid priority parameter")
        status = self.accept(message, headers)
        if status != 200:
            return status, _ntfy_error(status * 100 + 1, status, "scripted trouble")
        now = int(time.time())
        published = {
            "id": secrets.token_urlsafe(9)[:12],
            "time": now,
            "expires": now + 43200,
            "event": "message",
            "topic": message["topic"],
            "title": message.get("title") or None,
            "message": message.get("message") or "triggered",
            "priority": message.get("priority") or None,
            "tags": message.get("tags") or None,
            "click": message.get("click") or None,
        }
        return 200, {k: v for k, v in published.items() if v is not None}


# ntfy's publishMessage: these JSON types, anything else fails to decode (40024)
_NTFY_TYPES = {
    "topic": str,
    "title": str,
    "message": str,
    "priority": int,
    "tags": list,
    "click": str,
    "icon": str,
    "markdown": bool,
    "delay": str,
}


def _ntfy_types_ok(message: dict) -> bool:
    for key, kind in _NTFY_TYPES.items():
        value = message.get(key)
        if value is not None and (
            not isinstance(value, kind) or (kind is int and isinstance(value, bool))
        ):
            return False
    return all(isinstance(t, str) for t in message.get("tags") or [])


def _ntfy_error(code: int, status: int, error: str) -> dict:
    return {"code": code, "http": status, "error": error}
