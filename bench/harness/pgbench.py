"""pgbench runs of the service's own statements, latencies cut from its log."""

import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

SERVICE_OPTIONS = "-c jit=off -c timezone=UTC"
TPS = re.compile(r"tps = ([\d.]+) \(without initial connection time\)")
ABORTED = re.compile(r"client \d+ (?:script \d+ )?aborted in command \d+.*")


def require_pgbench() -> str:
    """pgbench's path (it comes with the PostgreSQL client packages)."""
    if not (found := shutil.which("pgbench")):
        raise SystemExit("pgbench is missing: apt-get install postgresql-client")
    return found


def run(conninfo: str, script: Path, clients: int, seconds: int, options: str, warmup: int = 0):
    """Run ``script`` on ``clients`` connections for ``seconds`` (after ``warmup`` seconds
    unmeasured), extended protocol as psycopg sends statements."""
    if warmup:
        run_parallel(conninfo, [[script]], clients, warmup, options=options)
    return run_parallel(conninfo, [[script]], clients, seconds, options=options)


def run_parallel(
    conninfo: str, scripts: list[list[Path]], clients: int, seconds: int, *,
    mode: str = "extended", options: str = SERVICE_OPTIONS, retries: int = 1,
) -> dict:  # fmt: skip
    """Run one pgbench per list of ``scripts`` at once; their transactions merged."""
    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    pipes["env"] = {**os.environ, "PGOPTIONS": options}
    with tempfile.TemporaryDirectory(prefix="irl-pgbench-") as logs:
        started = time.time()
        commands = [
            _command(params, paths, clients, seconds, f"{logs}/tx{n}_", mode, retries)
            for n, paths in enumerate(scripts)
        ]
        processes = [subprocess.Popen(command, **pipes) for command in commands]
        outputs = [(process, *process.communicate()) for process in processes]
        ended = time.time()
        aborted, first_error, stdouts = 0, None, []
        for process, stdout, stderr in outputs:
            errors = ABORTED.findall(stderr)
            if process.returncode and not (errors and TPS.search(stdout)):
                raise RuntimeError(f"pgbench failed ({process.returncode}): {stderr[-2000:]}")
            aborted += len(errors)
            first_error = first_error or (errors[0][:300] if errors else None)
            stdouts.append(stdout)
        latencies = _latencies(Path(logs))
    found = _summary(latencies, clients * len(scripts), stdouts, (started, ended))
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
    """Cut latencies and sum pgbench's own throughputs (without connection time)."""
    ordered = sorted(latencies)
    tps = [TPS.search(stdout) for stdout in stdouts]
    failed = sum(_count(r"number of failed transactions: (\d+)", stdout) for stdout in stdouts)
    retried = sum(_count(r"number of transactions retried: (\d+)", stdout) for stdout in stdouts)

    def cut(q: float) -> float | None:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))], 3) if ordered else None

    return {
        "concurrency": clients,
        "requests": len(ordered),
        "throughput_rps": round(sum(float(t.group(1)) for t in tps), 1) if all(tps) else None,
        "median_ms": round(statistics.median(ordered), 3) if ordered else None,
        "p90_ms": cut(0.90),
        "p95_ms": cut(0.95),
        "p99_ms": cut(0.99),
        "mean_ms": round(statistics.fmean(ordered), 3) if ordered else None,
        "max_ms": round(ordered[-1], 3) if ordered else None,
        "errors": {"failed": failed} if failed else {},
        "retried": retried,
        "window": window,
    }


def _count(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    return int(found.group(1)) if found else 0
