"""pgbench for ``scale.py``: the nearby-venues SQL alone (the raw baseline), and ``run``,
which the footfall statements and the check-ins' replay (``checkin_replay``) use too.

The nearby statement is the service's own: ``nearby_statement`` sends one real
``GET /venues/nearby`` through the app in process and takes the statement it sent from
the cursor (``sql_trace``: no function of the service is named), its ``%(name)s``
parameters turned into pgbench variables. The script picks one of the benchmark's query
positions per transaction (``\\set n random(...)`` and a tree of ``CASE`` over the
positions, evaluated in pgbench, no extra round trip), so the SQL sees the same
positions as the endpoints. pgbench runs it in extended-query mode (``-M extended``:
parameters bound, an unnamed statement planned per execution, as psycopg sends it) with
``jit=off`` and ``timezone=UTC`` as the service's connections; each transaction's
latency is logged (``-l``) and cut into percentiles here.
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
import sql_trace
from seeding import ROOT

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SERVICE_OPTIONS = "-c jit=off -c timezone=UTC"
PARAM = re.compile(r"%\((\w+)\)s")
TPS = re.compile(r"tps = ([\d.]+) \(without initial connection time\)")
PER_QUERY = {"lat", "lon", "radius", "limit"}  # the nearby statement's own parameters
ABORTED = re.compile(r"client \d+ (?:script \d+ )?aborted in command \d+.*")


def nearby_statement(app, user_id: int, path: str) -> tuple[str, dict]:
    """The statement ``GET path`` (a nearby-venues request) sends, captured at the cursor
    in process (``sql_trace``), and its parameters other than the position and page."""
    from flask_jwt_extended import create_access_token

    from service.database import Database

    engine = Database.state(app).engine
    with app.app_context():
        token = create_access_token(identity=str(user_id))
    client = app.test_client()
    with sql_trace.Trace(engine) as trace:
        response = client.get(path, headers={"Authorization": f"Bearer {token}"})
    engine.dispose()
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code} in process")
    found = [
        entry
        for entry in trace.statements
        if not entry.many and isinstance(entry.params, dict) and set(entry.params) >= PER_QUERY
    ]
    if len(found) != 1:
        raise RuntimeError(f"GET {path} sent {len(found)} statements with {sorted(PER_QUERY)}")
    params = found[0].params
    constants = {key: value for key, value in params.items() if key not in PER_QUERY}
    return found[0].sql, {**constants, "offset": params.get("offset", 0)}


def script(
    points: list[tuple[float, float]], radius_m: float, limit: int, statement: tuple[str, dict]
) -> str:
    """A pgbench script: a random one of ``points``, then ``statement`` (from
    ``nearby_statement``) there."""
    sql, constants = statement
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


def run(
    conninfo: str,
    script_path: Path,
    clients: int,
    seconds: int,
    *,
    mode: str = "extended",
    options: str = SERVICE_OPTIONS,
    retries: int = 1,
) -> dict:
    """pgbench with ``clients`` connections for ``seconds``; latencies from its log.

    ``mode``: pgbench's query protocol; ``options``: the connections' ``PGOPTIONS``;
    ``retries``: tries of a transaction that meets a deadlock or serialization failure
    (pgbench's ``--max-tries``). Clients that pgbench aborts (any other error) are
    counted in ``errors`` and the run's figures kept, as far as they go."""
    return run_parallel(
        conninfo, [[script_path]], clients, seconds, mode=mode, options=options, retries=retries
    )


def run_parallel(
    conninfo: str,
    scripts: list[list[Path]],
    clients: int,
    seconds: int,
    *,
    mode: str = "extended",
    options: str = SERVICE_OPTIONS,
    retries: int = 1,
) -> dict:
    """One pgbench process per list of ``scripts`` (``clients`` connections each, every
    transaction one of its scripts at random), all at once for ``seconds``; their
    transactions merged (throughput: the sum of theirs). ``run``'s options."""
    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    env = {**os.environ, "PGOPTIONS": options}
    with tempfile.TemporaryDirectory(prefix="irl-pgbench-") as logs:
        started = time.time()
        processes = [
            subprocess.Popen(
                _command(params, paths, clients, seconds, f"{logs}/tx{index}_", mode, retries),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for index, paths in enumerate(scripts)
        ]
        outputs = [(process, *process.communicate()) for process in processes]
        ended = time.time()
        aborted, first_error, tps = 0, None, []
        for process, stdout, stderr in outputs:
            errors = ABORTED.findall(stderr)
            if process.returncode and not (errors and TPS.search(stdout)):
                raise RuntimeError(f"pgbench failed ({process.returncode}): {stderr[-2000:]}")
            aborted += len(errors)
            first_error = first_error or (errors[0][:300] if errors else None)
            tps.append(stdout)
        latencies = _latencies(Path(logs))
    found = _summary(latencies, clients * len(scripts), tps, (started, ended))
    if aborted:
        found["errors"]["aborted clients"] = aborted
        found["first_error"] = first_error
    return found


def _command(params: dict, paths, clients: int, seconds: int, log: str, mode: str, retries: int):
    command = [require_pgbench(), "-n", "-M", mode]
    if retries > 1:
        command += ["--max-tries", str(retries)]
    for path in paths:
        command += ["-f", str(path)]
    command += ["-c", str(clients), "-j", str(min(2, clients)), "-T", str(seconds)]
    command += ["-l", "--log-prefix", log, "-h", str(params.get("host", "127.0.0.1"))]
    command += ["-p", str(params.get("port", 5432)), "-U", str(params.get("user", "postgres"))]
    return [*command, str(params["dbname"])]


def _latencies(logs: Path) -> list[float]:
    """Every transaction's latency (ms) from the per-thread logs (``-l``)."""
    found = []
    for path in logs.glob("tx*"):
        for line in path.read_text().splitlines():
            fields = line.split()
            if fields[2].isdigit():  # "failed" / "skipped": no latency
                found.append(int(fields[2]) / 1000)
    return found


def _summary(latencies: list[float], clients: int, stdouts: list[str], window) -> dict:
    """Median / p90 / p99 and throughput (pgbench's own tps without connection time,
    summed over its processes)."""
    ordered = sorted(latencies)
    tps = [TPS.search(stdout) for stdout in stdouts]
    failed = sum(_count(r"number of failed transactions: (\d+)", stdout) for stdout in stdouts)
    retried = sum(_count(r"number of transactions retried: (\d+)", stdout) for stdout in stdouts)

    def cut(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))], 3)

    return {
        "concurrency": clients,
        "requests": len(ordered),
        "throughput_rps": round(sum(float(t.group(1)) for t in tps), 1) if all(tps) else None,
        "median_ms": round(statistics.median(ordered), 3) if ordered else None,
        "p90_ms": cut(0.90) if ordered else None,
        "p95_ms": cut(0.95) if ordered else None,
        "p99_ms": cut(0.99) if ordered else None,
        "mean_ms": round(statistics.fmean(ordered), 3) if ordered else None,
        "max_ms": round(ordered[-1], 3) if ordered else None,
        "errors": {"failed": failed} if failed else {},
        "retried": retried,
        "window": window,
    }


def _count(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    return int(found.group(1)) if found else 0
