"""Real processes and sockets for end-to-end tests: the API under gunicorn, and a local
HTTP receiver standing in for the push gateway."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def required(present: bool, reason: str) -> pytest.MarkDecorator:
    """Skip where a prerequisite is missing, except under CI (``CI=true``): there a suite
    that cannot run is an error at collection, never a silent skip."""
    if not present and IN_CI:
        raise RuntimeError(f"CI must run this suite, but it cannot: {reason}")
    return pytest.mark.skipif(not present, reason=reason)


def wait_until(condition, what: str, timeout_s: float = 30.0, every_s: float = 0.05):
    """Poll ``condition`` until it returns something truthy (returned), or fail naming
    ``what`` after ``timeout_s``: a wait on the condition, never a fixed sleep."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout_s} s for {what}")
        time.sleep(every_s)


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Receiver:
    """An HTTP server that records each POST and answers from a script of statuses
    (the last one repeats), optionally after a delay."""

    def __init__(self, statuses=(200,), delay_s: float = 0.0):
        self.statuses = list(statuses)
        self.delay_s = delay_s
        self.requests: list[dict] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.arrived:
                    receiver.requests.append({"headers": dict(self.headers), "body": body})
                    index = len(receiver.requests) - 1
                    receiver.arrived.notify_all()
                time.sleep(receiver.delay_s)
                status = receiver.statuses[min(index, len(receiver.statuses) - 1)]
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout under test)

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{HOST}:{self.server.server_address[1]}/push"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[dict]:
        """Block until ``count`` requests arrived (or fail)."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.requests) >= count, timeout_s):
                raise AssertionError(f"{len(self.requests)} requests arrived, wanted {count}")
        return self.requests

    def json(self, index: int) -> dict:
        return json.loads(self.requests[index]["body"])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def process_env(database_url: str, jwt_secret: str, **extra) -> dict:
    """Environment for a server or CLI process on the test database."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": jwt_secret,
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "1024",
        **extra,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


@contextmanager
def running_api(env: dict, log: Path, workers: int = 1):
    """gunicorn as ``make run`` starts it (gevent workers); yields the base URL."""
    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "-c", "gunicorn.conf.py", "--bind", f"{HOST}:{port}"]
    command += ["--workers", str(workers), "wsgi:app"]
    with log.open("w") as log_file:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
        base = f"http://{HOST}:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"gunicorn exited: {log.read_text()[-2000:]}")
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start in 60 s")
                time.sleep(0.1)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
