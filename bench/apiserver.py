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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from seeding import ROOT

HOST = "127.0.0.1"
START_TIMEOUT_S = 60
ACCESS_MINUTES = 120  # access tokens outlive any benchmark run


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextmanager
def running_api(
    database_url: str,
    *,
    workers: int,
    threads: int,
    log: Path,
    jwt_secret: str = "",
    env: dict[str, str | None] | None = None,
) -> Iterator[str]:
    """Start gunicorn and the background worker as ``make run`` does (gevent unless
    GUNICORN_WORKER_CLASS says otherwise); yield ``host:port``; always stop both. The
    worker folds the footfall changes check-ins log, so its cost is measured with theirs.

    ``jwt_secret`` (default: a random one) lets the caller mint tokens with ``mint_tokens``;
    ``env`` sets more environment variables for the server (``None`` removes one).
    """
    port = free_port()
    extra_env = env
    with tempfile.TemporaryDirectory(prefix="irl-bench-prom-") as prometheus_dir:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "JWT_SECRET_KEY": jwt_secret or secrets.token_urlsafe(48),
            "JWT_ACCESS_MINUTES": str(ACCESS_MINUTES),
            "GUNICORN_THREADS": str(threads),
            "PROMETHEUS_MULTIPROC_DIR": prometheus_dir,
        }
        env.pop("ACCESS_LOG", None)
        for key, value in (extra_env or {}).items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [str(gunicorn), "-c", "gunicorn.conf.py", "--bind", f"{HOST}:{port}"]
        command += ["--workers", str(workers), "wsgi:app"]
        flask = Path(sys.executable).with_name("flask")
        worker_command = [str(flask), "--app", "wsgi", "push-worker"]
        with log.open("w") as log_file:
            server = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
            )
            worker = subprocess.Popen(
                worker_command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
            )
            try:
                _wait_healthy(server, port, log)
                yield f"{HOST}:{port}"
            finally:
                for process in (server, worker):
                    _stop(process)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


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


def mint_tokens(
    database_url: str, jwt_secret: str, user_ids: Iterable[int], minutes: int = ACCESS_MINUTES
) -> dict[int, str]:
    """Access tokens for existing users, made as the API makes them (same secret, valid
    ``minutes``), so thousands of seeded users can call the API without logging in."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from flask_jwt_extended import create_access_token

    from service import create_app

    app = create_app(
        {
            "DATABASE_URL": database_url,
            "JWT_SECRET_KEY": jwt_secret,
            "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=minutes),
        }
    )
    with app.app_context():
        return {user_id: create_access_token(identity=str(user_id)) for user_id in user_ids}
