"""Wait until the API answers ``/readyz``, then say where it is.

Usage: ``python scripts/wait_ready.py PORT PID``. gunicorn says "Listening" before its
workers can answer; ``make run`` prints the URL only once ``/readyz`` says 200. Gives up
(exit 1) when the server process ``PID`` has ended or after ``--timeout`` seconds.
"""

import argparse
import os
import sys
import time

import httpx


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait(port: int, pid: int, timeout_s: float) -> bool:
    """True once ``/readyz`` answers 200; False if the server ended or time ran out."""
    url = f"http://127.0.0.1:{port}/readyz"
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline and _alive(pid):
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return True
            last = f"{response.status_code} {response.text.strip()}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.25)
    print(f"the API is not ready on port {port} ({last})", file=sys.stderr)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("port", type=int)
    parser.add_argument("pid", type=int)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    if not wait(args.port, args.pid, args.timeout):
        return 1
    print(
        f"\nIRL is ready at http://localhost:{args.port} (API /api/v1, docs /api/docs, "
        "owners' dashboard /owner/); Ctrl-C stops it\n",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
