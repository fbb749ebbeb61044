"""Load from wrk, with the Lua scripts in ``bench/wrk/`` (README)."""

import json
import shutil
import subprocess
import time
from pathlib import Path

LUA = Path(__file__).resolve().parents[1] / "wrk"
MARKER = "WRK_JSON "
PERCENTILES = {"median": "50", "p90": "90", "p95": "95", "p99": "99", "mean": "mean", "max": "max"}


def require_wrk() -> str:
    """wrk's path; a clear error when it is missing."""
    if not (found := shutil.which("wrk")):
        raise SystemExit("wrk is missing: run `make bench` (installs it) or apt-get install wrk")
    return found


def write_items(path: Path, rows: list[tuple[str, str]]) -> Path:
    """An items file: one ``token<TAB>text`` line a row."""
    path.write_text("".join(f"{token}\t{text}\n" for token, text in rows))
    return path


def _threads(connections: int) -> int:
    """wrk threads: one per connection, at most two (the machine has two cores)."""
    return max(1, min(2, connections))


def run_get(address: str, items: Path, connections: int, seconds: int, seed: int = 1,
            warmup: int = 0) -> dict:  # fmt: skip
    """GET random items for ``seconds`` over ``connections`` (after ``warmup`` seconds)."""
    if warmup:
        run_get(address, items, connections, warmup, seed + 1)
    return _run(address, LUA / "get.lua", connections, seconds, [str(items), str(seed)])


def run_post(address: str, items: Path, connections: int, seconds: int, path: str) -> dict:
    """Each item POSTed once to ``path`` for at most ``seconds``."""
    args = [str(items), str(_threads(connections)), path]
    return _run(address, LUA / "post.lua", connections, seconds, args)


def _run(address: str, script: Path, connections: int, seconds: int, args: list[str]) -> dict:
    command = [require_wrk(), f"-t{_threads(connections)}", f"-c{connections}", f"-d{seconds}s"]
    command += ["--timeout", "30s", "-s", str(script), f"http://{address}/", "--", *args]
    started = time.time()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    ended = time.time()
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    raw = json.loads(lines[-1][len(MARKER) :])
    seconds_run = raw["duration_us"] / 1e6
    latency = raw["latency_us"]

    def ms(key: str) -> float | None:  # no answers: no latencies
        return round(latency[key] / 1000, 3) if raw["requests"] else None

    found = {
        "concurrency": connections,
        "requests": raw["requests"],
        "seconds": round(seconds_run, 3),
        "throughput_rps": round(raw["requests"] / seconds_run, 1) if seconds_run else 0.0,
        **{f"{name}_ms": ms(key) for name, key in PERCENTILES.items()},
        "errors": {key: value for key, value in raw["errors"].items() if value},
        "window": (started, ended),
    }
    found.update(
        {key: raw[key] for key in ("statuses", "eligible", "meetings", "ran_out") if key in raw}
    )
    return found
