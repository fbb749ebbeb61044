"""What the machine does while a load phase runs: CPU time per kind of process, and what
the database's backends are doing.

A thread samples, every ``interval`` seconds, ``pg_stat_activity`` (active backends of the
bench database and what they wait for) and, every ``cpu_every`` samples, the CPU time
(``/proc/<pid>/stat``, user + system) of the API's gunicorn workers and its background
worker (which folds the check-ins' footfall changes), of PostgreSQL (the
bench database's backends and the server's own processes: WAL writer, checkpointer...;
other databases' backends count as "other"), of the load clients, of the whole machine
(``/proc/stat``), and the bench database's shared-buffer hits and reads
(``pg_stat_database``). The CPU and buffer figures are then cut to the window every
client was measuring in, so spawning and warm-up do not count; divided by the check-ins
answered in it, they say how much of the machine one check-in takes, and where.
"""

import bisect
import os
import pwd
import re
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg

TICK_S = 1 / os.sysconf("SC_CLK_TCK")
ACTIVITY_SQL = (
    "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU'), count(*)"
    " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    " AND state = 'active' GROUP BY 1"
)
# Shared-buffer hits and misses (read from the OS) of the bench database; backends
# report them at least once a second, so deltas over the window are good to about that.
BLOCKS_SQL = "SELECT blks_hit, blks_read FROM pg_stat_database WHERE datname = current_database()"
# A client backend's title names its client ("... 127.0.0.1(51234) idle", "[local]").
BACKEND = re.compile(r"\(\d+\) |\[local\]")
KINDS = ("api", "postgres", "load clients", "other")
WORKER = "push-worker"  # the API's background worker (footfall fold, push), counted as API


def _processes() -> list[tuple[int, int, int, str, float]]:
    """``(pid, ppid, uid, command, cpu seconds)`` of every process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            uid = entry.stat().st_uid
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        cpu = (int(fields[11]) + int(fields[12])) * TICK_S  # utime + stime
        found.append((int(entry.name), int(fields[1]), uid, command, cpu))
    return found


def _machine_busy_s() -> tuple[float, float]:
    """``(busy, total)`` CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) * TICK_S, sum(values[:8]) * TICK_S


class PhaseMonitor:
    """Samples while a phase runs (a context manager); ``report(window, answered)``."""

    def __init__(
        self,
        conninfo: str,
        api_address: str,
        interval: float = 0.05,
        cpu_every=5,
        client_marker: str = "multiprocessing",
    ):
        """``client_marker``: what the command line of a load client (a child of this
        process) contains: ``multiprocessing`` for Python clients, ``wrk`` for wrk."""
        self.conninfo, self.interval, self.cpu_every = conninfo, interval, cpu_every
        self.client_marker = client_marker
        self.bind = f"--bind {api_address}"
        self.dbname = f" {psycopg.conninfo.conninfo_to_dict(conninfo)['dbname']} "
        try:
            self.postgres_uid = pwd.getpwnam("postgres").pw_uid
        except KeyError:
            self.postgres_uid = -1
        self.waits: Counter = Counter()
        self.samples = 0
        self.cpu: list[tuple[float, dict]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)

    def _cpu_sample(self, conn: psycopg.Connection) -> None:
        processes = _processes()
        me = os.getpid()
        masters = {pid for pid, _, _, command, _ in processes if self.bind in command}
        kinds: dict[int, tuple[str, float]] = {}  # pid -> (kind, CPU seconds so far)
        for pid, ppid, uid, command, cpu in processes:
            if pid in masters or ppid in masters or (ppid == me and WORKER in command):
                kinds[pid] = ("api", cpu)
            elif uid == self.postgres_uid and (
                self.dbname in command or not BACKEND.search(command)
            ):  # the bench database's backends, and the server's own processes
                kinds[pid] = ("postgres", cpu)
            elif ppid == me and self.client_marker in command:
                kinds[pid] = ("load clients", cpu)
        busy, total = _machine_busy_s()
        hits, reads = conn.execute(BLOCKS_SQL).fetchone()
        totals = {
            "machine busy": busy,
            "machine total": total,
            "buffer hits": float(hits),
            "buffer reads": float(reads),
        }
        self.cpu.append((time.time(), kinds, totals))

    def _run(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            tick = 0
            while not self._stop.wait(self.interval):
                if tick % self.cpu_every == 0:
                    self._cpu_sample(conn)
                tick += 1
                self.samples += 1
                self.waits.update(dict(conn.execute(ACTIVITY_SQL).fetchall()))

    def report(self, window: tuple[float, float], answered: int, seconds: float) -> dict:
        """Active backends by wait (mean over the phase) and, over ``window``, CPU cores
        used and CPU milliseconds per answered request, per kind of process."""
        samples = max(1, self.samples)
        found = {
            "activity_samples": self.samples,
            "mean_active_backends": round(sum(self.waits.values()) / samples, 2),
            "active_backends_by_wait": {
                key: round(value / samples, 3) for key, value in self.waits.most_common()
            },
        }
        times = [sample[0] for sample in self.cpu]
        first = bisect.bisect_left(times, window[0])
        last = bisect.bisect_right(times, window[1]) - 1
        if last <= first:
            return found
        (t0, start, a), (t1, _, b) = self.cpu[first], self.cpu[last]
        span = t1 - t0
        rate = answered / seconds if seconds else 0.0  # answers per second in the window
        delta = {key: b[key] - a[key] for key in a}
        # Per process, from its CPU time at the window's start (0 if born later) to the
        # last time it was seen in the window, so processes that exit still count.
        seen: dict[int, tuple[str, float]] = {}
        for _, kinds, _ in self.cpu[first : last + 1]:
            seen.update(kinds)
        for kind in KINDS[:3]:
            delta[kind] = sum(
                cpu - (start[pid][1] if pid in start else 0.0)
                for pid, (seen_kind, cpu) in seen.items()
                if seen_kind == kind
            )
        # "other": busy time of everything else on the machine (kernel, this process...).
        delta["other"] = delta["machine busy"] - sum(delta[kind] for kind in KINDS[:3])
        cores = {kind: round(delta[kind] / span, 2) for kind in KINDS}
        cores["machine busy"] = round(delta["machine busy"] / span, 2)
        cores["machine idle"] = round((delta["machine total"] - delta["machine busy"]) / span, 2)
        found["cpu_cores_used"] = cores
        found["cpu_ms_per_request"] = {
            kind: round(1000 * delta[kind] / span / rate, 2) if rate else None
            for kind in (*KINDS, "machine busy")
        }
        found["buffers_per_request"] = {
            kind: round(delta[f"buffer {kind}"] / span / rate, 1) if rate else None
            for kind in ("hits", "reads")
        }
        found["cpu_window_s"] = round(span, 2)
        return found
