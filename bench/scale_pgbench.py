"""The nearby-venues SQL alone, under pgbench, for ``scale.py``'s raw baseline.

The statement is the service's own: ``service.venues.service._nearby_statement`` compiled
for psycopg (what the API sends), its ``%(name)s`` parameters turned into pgbench
variables. The script picks one of the benchmark's query positions per transaction
(``\\set n random(...)`` and a tree of ``CASE`` over the positions, evaluated in
pgbench, no extra round trip), so the SQL sees the same positions as the endpoints. pgbench runs in
extended-query mode (``-M extended``: parameters bound, an unnamed statement planned per
execution, as psycopg sends it) with ``jit=off`` and ``timezone=UTC`` as the service's
connections; each transaction's latency is logged (``-l``) and cut into percentiles here.
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from seeding import ROOT

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SERVICE_OPTIONS = "-c jit=off -c timezone=UTC"
PARAM = re.compile(r"%\((\w+)\)s")


def nearby_statement() -> tuple[str, dict]:
    """The service's nearby-venues SQL (psycopg placeholders) and its constant params."""
    from sqlalchemy.dialects.postgresql import psycopg as pg_dialect

    from service.venues.service import _nearby_statement

    compiled = _nearby_statement(False, False, True).compile(dialect=pg_dialect.dialect())
    asked = {"lat": 0.0, "lon": 0.0, "radius": 0.0, "limit": 0, "offset": 0}
    constants = {
        key: value
        for key, value in compiled.construct_params(asked).items()
        if key not in asked or key == "offset"
    }
    return compiled.string, constants


def script(points: list[tuple[float, float]], radius_m: float, limit: int) -> str:
    """A pgbench script: a random one of ``points``, then the nearby SQL there."""
    sql, constants = nearby_statement()
    lines = [f"\\set n random(0, {len(points) - 1})"]
    for axis, index in (("lat", 0), ("lon", 1)):
        values = [f"{point[index]:.7f}" for point in points]
        lines.append(f"\\set {axis} {_pick(values, 0, len(values))}")
    lines.append(f"\\set radius {float(radius_m)}")
    lines.append(f"\\set limit {int(limit)}")
    lines += [f"\\set {key} {value}" for key, value in constants.items()]
    lines.append(PARAM.sub(lambda m: f":{m.group(1)}", sql).replace("\n", " ") + ";")
    return "\n".join(lines) + "\n"


def _pick(values: list[str], low: int, high: int) -> str:
    """``values[:n]`` as a balanced tree of CASEs (pgbench has no arrays, and a flat
    CASE of 2,000 branches costs ~20 us a transaction; this one ~11 comparisons)."""
    if high - low == 1:
        return values[low]
    middle = (low + high) // 2
    left, right = _pick(values, low, middle), _pick(values, middle, high)
    return f"CASE WHEN :n < {middle} THEN {left} ELSE {right} END"


def require_pgbench() -> str:
    """pgbench's path (it comes with the PostgreSQL client packages)."""
    found = shutil.which("pgbench")
    if not found:
        raise SystemExit("pgbench is missing: apt-get install postgresql-client")
    return found


def run(conninfo: str, script_path: Path, clients: int, seconds: int) -> dict:
    """pgbench with ``clients`` connections for ``seconds``; latencies from its log."""
    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    env = {**os.environ, "PGOPTIONS": SERVICE_OPTIONS}
    with tempfile.TemporaryDirectory(prefix="irl-pgbench-") as logs:
        command = [
            require_pgbench(),
            "-n",
            "-M",
            "extended",
            "-f",
            str(script_path),
            "-c",
            str(clients),
            "-j",
            str(min(2, clients)),
            "-T",
            str(seconds),
            "-l",
            "--log-prefix",
            f"{logs}/tx",
            "-h",
            str(params.get("host", "127.0.0.1")),
            "-p",
            str(params.get("port", 5432)),
            "-U",
            str(params.get("user", "postgres")),
            str(params["dbname"]),
        ]
        started = time.time()
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        ended = time.time()
        if done.returncode:
            raise RuntimeError(f"pgbench failed ({done.returncode}): {done.stderr[-2000:]}")
        latencies = _latencies(Path(logs))
    return _summary(latencies, clients, done.stdout, (started, ended))


def _latencies(logs: Path) -> list[float]:
    """Every transaction's latency (ms) from the per-thread logs (``-l``)."""
    found = []
    for path in logs.glob("tx*"):
        for line in path.read_text().splitlines():
            fields = line.split()
            found.append(int(fields[2]) / 1000)
    return found


def _summary(latencies: list[float], clients: int, stdout: str, window) -> dict:
    """Median / p90 / p99 and throughput (pgbench's own tps, without connection time)."""
    ordered = sorted(latencies)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", stdout)
    failed = re.search(r"number of failed transactions: (\d+)", stdout)

    def cut(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))], 3)

    return {
        "concurrency": clients,
        "requests": len(ordered),
        "throughput_rps": round(float(tps.group(1)), 1) if tps else None,
        "median_ms": round(statistics.median(ordered), 3) if ordered else None,
        "p90_ms": cut(0.90) if ordered else None,
        "p95_ms": cut(0.95) if ordered else None,
        "p99_ms": cut(0.99) if ordered else None,
        "mean_ms": round(statistics.fmean(ordered), 3) if ordered else None,
        "max_ms": round(ordered[-1], 3) if ordered else None,
        "errors": {"failed": int(failed.group(1))} if failed and int(failed.group(1)) else {},
        "window": window,
    }
