"""Make sure the Redis every gunicorn worker shares answers; print its URL.

Usage: ``python scripts/ensure_redis.py [REDIS_URL]`` (default ``redis://127.0.0.1:6379/0``).
The rate limits and the failed-login lockout must count in one store for all workers:
in process memory each of 4 workers would let 10 wrong passwords through, 40 in all.
So a local Redis that is installed but stopped is started, one that is absent is
installed with apt-get when running as root, and otherwise this exits non-zero with the
one command to run. Never falls back to memory. Safe to run again.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import redis

DEFAULT_URL = "redis://127.0.0.1:6379/0"
PACKAGE = "redis-server"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
RUN_DIR = Path(__file__).resolve().parents[1] / ".run"


def answers(url: str) -> bool:
    """Does a Redis answer PING at ``url``?"""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        with client:
            return bool(client.ping())
    except (redis.RedisError, OSError):
        return False


def next_step(*, answering: bool, local: bool, installed: bool, root: bool) -> str:
    """What to do: ``use``, ``start``, ``install`` or ``refuse``."""
    if answering:
        return "use"
    if not local:
        return "refuse"
    if installed:
        return "start"
    return "install" if root else "refuse"


def refusal(url: str, *, local: bool) -> str:
    """The message when no shared store can be had, with the one command to run."""
    why = (
        "the rate limits and the failed-login lockout need one store that every worker "
        "shares (in memory, each worker would count alone)"
    )
    if not local:
        return f"Redis at {url} does not answer: {why}. Start it, or point REDIS_URL elsewhere."
    return (
        f"Redis is not installed: {why}. Run `sudo apt-get install -y {PACKAGE}`, "
        "then `make run` again (or set REDIS_URL to a Redis every worker reaches)."
    )


def _install() -> None:
    print(f"installing {PACKAGE} ...", file=sys.stderr, flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", PACKAGE],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def _start(url: str) -> None:
    """The system's service when root, else a redis-server of this user under .run/."""
    print("starting Redis ...", file=sys.stderr, flush=True)
    parts = urlsplit(url)
    port = str(parts.port or 6379)
    if os.geteuid() == 0 and port == "6379" and shutil.which("service"):
        subprocess.run(["service", PACKAGE, "start"], check=False, capture_output=True)
        if _wait(url, 5):
            return
    RUN_DIR.mkdir(exist_ok=True)
    subprocess.run(
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            port,
            "--bind",
            parts.hostname or "127.0.0.1",
            "--daemonize",
            "yes",
            "--save",
            "",
            "--dir",
            str(RUN_DIR),
            "--logfile",
            str(RUN_DIR / "redis.log"),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _wait(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if answers(url):
            return True
        time.sleep(0.2)
    return False


def ensure(url: str) -> str:
    """Return the URL of an answering Redis, starting or installing it; exit otherwise."""
    local = (urlsplit(url).hostname or "127.0.0.1") in LOCAL_HOSTS
    step = next_step(
        answering=answers(url),
        local=local,
        installed=shutil.which("redis-server") is not None,
        root=os.geteuid() == 0 and shutil.which("apt-get") is not None,
    )
    if step == "refuse":
        sys.exit(refusal(url, local=local))
    if step == "install":
        _install()
    if step in ("install", "start"):
        _start(url)
        if not _wait(url, 10):
            sys.exit(f"Redis was started but does not answer at {url}; see {RUN_DIR}/redis.log")
    return url


if __name__ == "__main__":
    print(ensure((sys.argv[1] if len(sys.argv) > 1 else "") or DEFAULT_URL))
