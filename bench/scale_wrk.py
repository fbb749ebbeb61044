"""Load from wrk (a separate process, C, keep-alive HTTP/1.1) for ``scale.py``.

Two Lua scripts in ``bench/wrk/``: ``get.lua`` sends GETs, each a random line of an items
file (``token<TAB>path``: the query position and the user vary per request), and
``post.lua`` POSTs every line of an items file (``token<TAB>json``) once, the lines dealt
between wrk's threads. Both print one ``WRK_JSON`` line: requests, duration, errors,
latency percentiles (wrk's histogram, microseconds) and status counts. ``run`` starts
wrk, parses that line and returns throughput and latencies in milliseconds.

wrk is installed by the Makefile's bench targets (``apt-get install -y wrk``).
"""

import json
import shutil
import subprocess
import time
from pathlib import Path

LUA = Path(__file__).resolve().parent / "wrk"
MARKER = "WRK_JSON "


def require_wrk() -> str:
    """wrk's path; a clear error when it is missing."""
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is missing: run `make bench` (installs it) or apt-get install wrk")
    return found


def write_items(path: Path, rows: list[tuple[str, str]]) -> Path:
    """An items file: one ``token<TAB>text`` line a row."""
    path.write_text("".join(f"{token}\t{text}\n" for token, text in rows))
    return path


def threads_for(connections: int) -> int:
    """wrk threads: one per connection, at most two (the machine has two cores)."""
    return max(1, min(2, connections))


def run_get(address: str, items: Path, connections: int, seconds: int, seed: int = 1) -> dict:
    """GETs of random items for ``seconds`` over ``connections`` connections."""
    script = LUA / "get.lua"
    return _run(address, script, connections, seconds, [str(items), str(seed)])


def run_post(address: str, items: Path, connections: int, seconds: int, path: str) -> dict:
    """Each item POSTed once to ``path`` for at most ``seconds``."""
    threads = threads_for(connections)
    args = [str(items), str(threads), path]
    return _run(address, LUA / "post.lua", connections, seconds, args)


def _run(address: str, script: Path, connections: int, seconds: int, args: list[str]) -> dict:
    command = [
        require_wrk(),
        f"-t{threads_for(connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        f"http://{address}/",
        "--",
        *args,
    ]
    started = time.time()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    ended = time.time()
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    raw = json.loads(lines[-1][len(MARKER) :])
    return summarise(raw, connections, (started, ended))


def summarise(raw: dict, connections: int, window: tuple[float, float]) -> dict:
    """Throughput, latencies in ms and errors from one ``WRK_JSON`` record."""
    seconds = raw["duration_us"] / 1e6
    latency = raw["latency_us"]
    answered = raw["requests"] > 0

    def ms(key: str) -> float | None:  # no answers: no latencies
        return round(latency[key] / 1000, 3) if answered else None

    found = {
        "concurrency": connections,
        "requests": raw["requests"],
        "seconds": round(seconds, 3),
        "throughput_rps": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        "median_ms": ms("50"),
        "p90_ms": ms("90"),
        "p95_ms": ms("95"),
        "p99_ms": ms("99"),
        "mean_ms": ms("mean"),
        "max_ms": ms("max"),
        "errors": {key: value for key, value in raw["errors"].items() if value},
        "window": window,
    }
    for key in ("statuses", "eligible", "meetings", "ran_out"):
        if key in raw:
            found[key] = raw[key]
    return found
