"""The check-ins' own SQL, captured in process and replayed by pgbench (README)."""

import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench.harness import pgbench
from bench.harness.sql import ROLLBACK, InProcess, Sent

PATH = "/api/v1/checkins"
BUILT_IN = {"client_id", "default_seed", "random_seed", "scale"}  # pgbench's variables
MAX_SCRIPTS = 128  # pgbench's limit
# what pgbench takes for a variable: a colon (not one of a ``::`` cast) and a name
VARIABLE = re.compile(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)")
HEAD = re.compile(r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\w+", re.IGNORECASE)
MAX_DROPS = 3  # statements a transaction may lose in ``check`` before it is left out


def capture(app, jobs: list[tuple[int, str]]) -> list[Sent]:
    """Run ``jobs`` (``(user_id, body)``) one after the other through the app."""
    process = InProcess(app)
    found = [process.send(user_id, "POST", PATH, body, render=True) for user_id, body in jobs]
    process.close()
    return found


def transaction(sent: Sent) -> list[str]:
    """List a check-in's literal statements, as one transaction (a retried attempt's only)."""
    found: list[str] = []
    retried = False
    for entry in sent.statements:
        if entry.sql == ROLLBACK:
            retried = True
        elif not entry.marker:
            found, retried = ([] if retried else found) + entry.literal, False
    return found


def summary(captured: list[Sent]) -> dict:
    """Sum up what the captured check-ins were and sent, per check-in."""
    ok = [c for c in captured if c.status == 201]
    executions = [sum(len(s.literal) for s in c.statements if not s.marker) for c in ok]
    return {
        "captured": len(captured),
        "statuses": dict(sorted(Counter(str(c.status) for c in captured).items())),
        "eligible": sum(bool(c.answer.get("rewards", {}).get("eligible")) for c in ok),
        "with_meetings": sum(bool(c.answer.get("meetings")) for c in ok),
        "statements_per_checkin": mean(executions, 1),
        "statements_range": (min(executions), max(executions)) if executions else None,
        "sql_ms_per_checkin_live": mean(
            [sum(s.seconds for s in c.statements) * 1e3 for c in ok], 2
        ),
        "wall_ms_per_checkin_in_process": mean([c.wall_s * 1000 for c in ok], 2),
        "connections_per_checkin": mean([len({s.connection for s in c.statements}) for c in ok], 2),
        "sql_ms_by_site": by_site(ok),
    }


def by_site(answered: list[Sent], top: int = 20) -> dict[str, float]:
    """The ``top`` call sites by SQL ms per request (their statements' round trips)."""
    totals: Counter = Counter()
    for sent in answered:
        for entry in sent.statements:
            totals[entry.site] += entry.seconds * 1000 / len(answered)
    return {site: round(ms, 2) for site, ms in totals.most_common(top) if ms >= 0.005}


def mean(values: list[float], digits: int) -> float | None:
    """The mean to ``digits``, None of nothing."""
    return round(statistics.fmean(values), digits) if values else None


def check(conninfo: str, options: str, transactions: list[list[str]]) -> tuple[list, dict]:
    """Replay each transaction alone; drop what fails there; the kept ones and their costs."""
    kept, failed, dropped, times, cpus = [], [], Counter(), [], []
    with psycopg.connect(conninfo, options=options) as conn:
        for sent in transactions:
            sent, drops = list(sent), []
            while len(drops) <= MAX_DROPS:
                started, cpu, index = time.perf_counter(), time.process_time(), 0
                try:
                    for index, sql in enumerate(sent):  # noqa: B007 (index: the failing one)
                        cursor = conn.execute(sql, prepare=False)
                        if cursor.description:  # rows read, as the service reads them
                            cursor.fetchall()
                except psycopg.Error as exc:
                    conn.rollback()
                    found = HEAD.search(sent[index])
                    what = " ".join(found.group(0).split()) if found else sent[index].split()[0]
                    drops.append(f"{what} ({type(exc).__name__})")
                    del sent[index]
                    continue
                times.append(time.perf_counter() - started)
                cpus.append(time.process_time() - cpu)
                conn.rollback()
                kept.append(sent)
                dropped.update(drops)
                break
            else:
                failed.append(drops[-1])
    executions = sum(len(sent) for sent in transactions)
    return kept, {
        "replayable": len(kept),
        "failed_serially": len(failed),
        "failures": sorted(set(failed))[:5],
        "statements_dropped": sum(dropped.values()),
        "statements_dropped_share": round(sum(dropped.values()) / max(1, executions), 4),
        "dropped": dict(dropped.most_common(5)),
        "sql_ms_per_checkin_serial": mean([t * 1000 for t in times], 2),
        # this process's CPU sending them through psycopg alone: what the same
        # statements cost a client without SQLAlchemy, Flask and the service around them
        "driver_cpu_ms_per_checkin": mean([c * 1000 for c in cpus], 2),
    }


def write_scripts(transactions: list[list[str]], clients: int, folder: Path, mode: str):
    """Write each client's share of the transactions, one pgbench script each."""
    for sql in (sql for sent in transactions for sql in sent):
        names = set(VARIABLE.findall(sql))
        clash = names if mode != "simple" else BUILT_IN & names
        if clash:  # pgbench would substitute these (simple mode: only names it knows)
            raise ValueError(f"a captured statement contains :{clash.pop()} ({mode})")
    if len(transactions) > MAX_SCRIPTS * clients:
        raise ValueError(f"pgbench takes {MAX_SCRIPTS} scripts a client: capture fewer")
    folder.mkdir(parents=True, exist_ok=True)
    found = []
    for client in range(min(clients, len(transactions))):
        found.append([])
        for index, sent in enumerate(transactions[client::clients]):
            found[-1].append(folder / f"client{client}_{index}.sql")
            statements = [sql.strip() + ";" for sql in sent]
            found[-1][-1].write_text("\n".join(["BEGIN;", *statements, "ROLLBACK;\n"]))
    return found


def service_options(app) -> str:
    """Read the options (GUCs) the service's connections are made with."""
    from service.database import Database

    engine = Database.state(app).engine
    with engine.connect() as conn:
        options = conn.connection.dbapi_connection.info.get_parameters().get("options", "")
    engine.dispose()
    return options


@dataclass
class Replay:
    """Captured check-ins' scripts, ready for pgbench, and what the capture found."""

    figures: dict
    options: str  # the service connections' PGOPTIONS
    scripts: list[list[Path]]
    conninfo: str

    def run(self, seconds: int) -> dict:
        """Replay for ``seconds``: one pgbench per client, each on its own share."""
        mode, options = self.figures["mode"], self.options
        return pgbench.run_parallel(
            self.conninfo, self.scripts, 1, seconds, mode=mode, options=options, retries=3
        )


def prepare(app, conninfo: str, jobs: list, folder: Path, clients: int, mode: str) -> Replay:
    """Capture ``jobs``, check they replay, and write the scripts to ``folder``."""
    options = service_options(app)
    started = time.perf_counter()
    captured = capture(app, jobs)
    figures = summary(captured)
    figures["capture_s"] = round(time.perf_counter() - started, 1)
    sent = [transaction(c) for c in captured if c.status == 201]
    kept, checked = check(conninfo, options, [s for s in sent if s])
    figures.update(checked)
    if not kept:
        raise RuntimeError(f"no check-in replays: {figures['statuses']} {checked['failures']}")
    figures["mode"] = mode
    return Replay(figures, options, write_scripts(kept, clients, folder, mode), conninfo)
