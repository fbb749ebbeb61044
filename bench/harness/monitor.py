"""CPU per kind of process and the backends' waits while a phase runs (README)."""

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
# backends report buffer counts at least once a second: deltas are good to about that
BLOCKS_SQL = "SELECT blks_hit, blks_read FROM pg_stat_database WHERE datname = current_database()"
BACKEND = re.compile(r"\(\d+\) |\[local\]")  # a client backend's title names its client
KINDS = ("api", "postgres", "load clients", "other")
WORKER = "push-worker"  # the API's background worker (footfall fold, push), counted as API


def processes() -> list[tuple[int, int, int, str, float]]:
    """List ``(pid, ppid, uid, command, cpu seconds)`` of every process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            uid = entry.stat().st_uid
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        cpu = (int(fields[11]) + int(fields[12])) * TICK_S  # utime + stime
        found.append((int(entry.name), int(fields[1]), uid, command, cpu))
    return found


class PhaseMonitor:
    """Sample the machine while entered; ``report`` cuts it to the clients' window."""

    def __init__(self, conninfo: str, api_address: str, client_marker: str):
        """``client_marker``: what a load client's command line (a child) holds."""
        self.conninfo, self.client_marker = conninfo, client_marker
        self.bind = f"--bind {api_address}"
        self.dbname = f" {psycopg.conninfo.conninfo_to_dict(conninfo)['dbname']} "
        try:
            self.postgres_uid = pwd.getpwnam("postgres").pw_uid
        except KeyError:
            self.postgres_uid = -1
        self.waits, self.samples = Counter(), 0
        self.cpu: list[tuple[float, dict, dict]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        """Every 50 ms the backends' waits, every 250 ms the CPU and buffers."""
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while not self._stop.wait(0.05):
                if self.samples % 5 == 0:
                    self._cpu_sample(conn)
                self.samples += 1
                self.waits.update(dict(conn.execute(ACTIVITY_SQL).fetchall()))

    def _cpu_sample(self, conn: psycopg.Connection) -> None:
        found, me = processes(), os.getpid()
        masters = {pid for pid, _, _, command, _ in found if self.bind in command}
        kinds: dict[int, tuple[str, float]] = {}  # pid -> (kind, CPU seconds so far)
        for pid, ppid, uid, command, cpu in found:
            if pid in masters or ppid in masters or (ppid == me and WORKER in command):
                kinds[pid] = ("api", cpu)
            elif uid == self.postgres_uid and (
                self.dbname in f"{command} " or not BACKEND.search(command)
            ):  # the bench database's backends, and the server's own processes
                kinds[pid] = ("postgres", cpu)
            elif ppid == me and self.client_marker in command:
                kinds[pid] = ("load clients", cpu)
        stat = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        total, idle = sum(stat) * TICK_S, (stat[3] + stat[4]) * TICK_S  # idle + iowait
        hits, reads = conn.execute(BLOCKS_SQL).fetchone()
        totals = {"machine busy": total - idle, "machine total": total}
        self.cpu.append(
            (time.time(), kinds, {**totals, "buffer hits": hits, "buffer reads": reads})
        )

    def report(self, window: tuple[float, float], answered: int, seconds: float) -> dict:
        """Sum up the backends' waits, and CPU and buffers per request over ``window``."""
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
        span, rate = t1 - t0, answered / seconds if seconds else 0.0
        delta = {key: b[key] - a[key] for key in a}
        # per process, from its CPU at the window's start (0 if born later) to the last
        # time it was seen in the window, so processes that exit still count
        seen: dict[int, tuple[str, float]] = {}
        for _, kinds, _ in self.cpu[first : last + 1]:
            seen.update(kinds)
        for kind in KINDS[:3]:
            delta[kind] = sum(
                cpu - (start[pid][1] if pid in start else 0.0)
                for pid, (seen_kind, cpu) in seen.items()
                if seen_kind == kind
            )
        # "other": busy time of everything else on the machine (kernel, this process...)
        delta["other"] = delta["machine busy"] - sum(delta[kind] for kind in KINDS[:3])
        cores = {kind: round(delta[kind] / span, 2) for kind in (*KINDS, "machine busy")}
        cores["machine idle"] = round((delta["machine total"] - delta["machine busy"]) / span, 2)
        found["cpu_cores_used"] = cores

        def per(key: str, scale: float, digits: int) -> float | None:
            return round(scale * delta[key] / span / rate, digits) if rate else None

        found["cpu_ms_per_request"] = {k: per(k, 1000, 2) for k in (*KINDS, "machine busy")}
        found["buffers_per_request"] = {k: per(f"buffer {k}", 1, 1) for k in ("hits", "reads")}
        found["cpu_window_s"] = round(span, 2)
        return found
