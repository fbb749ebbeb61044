"""The API under gunicorn as ``make run`` starts it, requests to it, and tokens for it."""

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from bench.harness.database import ROOT

HOST = "127.0.0.1"
START_TIMEOUT_S = 60


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def set_environment(values: dict[str, str | None]) -> None:
    """Set ``values`` in this process's environment (the API's too), ``None`` unsetting one."""
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@contextmanager
def running_api(database_url: str, *, workers: int, log: Path, jwt_secret: str) -> Iterator[str]:
    """Run gunicorn and the push worker as ``make run`` does; yield ``host:port``."""
    port = _free_port()
    bin_dir = Path(sys.executable).parent
    server_command = [str(bin_dir / "gunicorn"), "-c", "gunicorn.conf.py"]
    server_command += ["--bind", f"{HOST}:{port}", "--workers", str(workers), "wsgi:app"]
    worker_command = [str(bin_dir / "flask"), "--app", "wsgi", "push-worker"]
    with tempfile.TemporaryDirectory(prefix="irl-bench-prom-") as prometheus:
        full_env = {**os.environ, "DATABASE_URL": database_url, "GUNICORN_THREADS": "4"}
        full_env.update(JWT_SECRET_KEY=jwt_secret, PROMETHEUS_MULTIPROC_DIR=prometheus)
        full_env.pop("ACCESS_LOG", None)
        with log.open("w") as out:
            started = [
                subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=out, stderr=out)
                for command in (server_command, worker_command)
            ]
            try:
                _wait_healthy(started[0], port, log)
                yield f"{HOST}:{port}"
            finally:
                for process in started:
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
            get(f"{HOST}:{port}", "/healthz")
            return
        except (OSError, RuntimeError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz in {START_TIMEOUT_S} s; see {log}")


def get(address: str, path: str, token: str = "") -> dict:
    """GET ``path`` on a fresh connection: its JSON body, or an error unless it is 200."""
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        conn.request("GET", path, headers={"Accept": "application/json", **headers})
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status}: {raw[:300]!r}")
    return json.loads(raw) if raw else {}


def bench_app(url: str, secret: str, minutes: int):
    """Build the app in process as the benchmark's gunicorn does (same environment)."""
    from service import create_app

    expires = timedelta(minutes=minutes)
    return create_app(
        {"DATABASE_URL": url, "JWT_SECRET_KEY": secret, "JWT_ACCESS_TOKEN_EXPIRES": expires}
    )


def mint_tokens(app, user_ids: Iterable[int]) -> dict[int, str]:
    """Mint access tokens for seeded users as the API makes them."""
    from flask_jwt_extended import create_access_token

    with app.app_context():
        return {user_id: create_access_token(identity=str(user_id)) for user_id in user_ids}
