"""Run the API under gunicorn against the bench database, and get a bearer token from it."""

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from seeding import ROOT

HOST = "127.0.0.1"
START_TIMEOUT_S = 60


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextmanager
def running_api(database_url: str, *, workers: int, threads: int, log: Path) -> Iterator[str]:
    """Start gunicorn as ``make run`` does (gthread); yield ``host:port``; always stop it."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="irl-bench-prom-") as prometheus_dir:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "JWT_SECRET_KEY": secrets.token_urlsafe(48),
            "JWT_ACCESS_MINUTES": "120",
            "GUNICORN_THREADS": str(threads),
            "PROMETHEUS_MULTIPROC_DIR": prometheus_dir,
        }
        env.pop("ACCESS_LOG", None)
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [str(gunicorn), "-c", "gunicorn.conf.py", "--bind", f"{HOST}:{port}"]
        command += ["--workers", str(workers), "wsgi:app"]
        with log.open("w") as log_file:
            server = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
            )
            try:
                _wait_healthy(server, port, log)
                yield f"{HOST}:{port}"
            finally:
                server.terminate()
                try:
                    server.wait(30)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()


def _wait_healthy(server: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({server.returncode}); see {log}")
        try:
            status, _ = request(f"{HOST}:{port}", "GET", "/healthz")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz in {START_TIMEOUT_S} s; see {log}")


def request(
    address: str, method: str, path: str, body: dict | None = None, token: str = ""
) -> tuple[int, dict]:
    """One JSON request on a fresh connection; ``(status, parsed body)``."""
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    payload = None
    if body is not None:
        payload, headers["Content-Type"] = json.dumps(body), "application/json"
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    return response.status, json.loads(raw) if raw else {}


def register_user(address: str) -> str:
    """Register a throwaway user and return its access token."""
    handle = f"bench_{secrets.token_hex(6)}"
    status, body = request(
        address,
        "POST",
        "/api/v1/auth/register",
        {
            "handle": handle,
            "email": f"{handle}@example.com",
            "password": secrets.token_urlsafe(16),
            "display_name": "Bench",
        },
    )
    if status != 201:
        raise RuntimeError(f"register answered {status}: {body}")
    return body["access_token"]
