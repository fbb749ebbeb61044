"""The check-in's own SQL, replayed by pgbench: what PostgreSQL alone can do of
``POST /checkins``, to set the endpoint's throughput against.

No SQL here is written by hand. ``capture`` runs a sample of ``scale.py``'s check-in work
items in this process through the real app (``service.create_app``, configured as the
benchmark's gunicorn, requests through Flask's test client) and records, at the cursor
(``sql_trace``), every statement each request sends, rendered to literal SQL with
psycopg's client-side binding on the connection it ran on. Whatever the check-in code
becomes, the replay is what it sends now.

``write_scripts`` writes them as pgbench scripts: one transaction per captured check-in
— ``BEGIN``, its statements in the order sent, ``ROLLBACK`` — each client its own share
of the check-ins, one file each. ``run`` starts one pgbench process per client (one
connection each) on its share, a file picked at random per transaction, so no two
clients replay one user's check-in at once (the HTTP phase never has two requests of one
user either), in simple-query mode by default (the text is literal; see planning
below), for the check-in phase's seconds, with the service connections' own options
(``PGOPTIONS``, read from one of its connections: ``jit``, ``timezone``, timeouts, plan
cache mode if it sets one); the throughputs are summed and set against the endpoint's.

The choice, and what it means (the caveats):

- The captured check-ins are real and **committed** (users of the same deal as the HTTP
  phase, none of whom it uses): the world keeps them, as it keeps the HTTP phase's. Every
  id a statement names (the check-in's, a meeting's, a notification's) is then a row
  that exists, so foreign keys hold and ``UPDATE ... WHERE id = ...`` find their row.
  Replaying in a world where the check-in had *not* happened (capture rolled back)
  cannot work: ``INSERT INTO checkins`` takes a new id from the sequence while the
  statements after it name the captured id, which no longer exists.
- Each replay ends in ``ROLLBACK``, so it can repeat and leaves the world as it was. Its
  ``INSERT INTO checkins`` adds a row under a fresh sequence id that is rolled back (ids
  are burnt, nothing else); the statements after it work on the committed check-in's
  rows (the same rows, locked, rewritten and released). Inserts guarded by ``ON
  CONFLICT`` (badges, visits, first visits, quotas) find the committed row and do
  nothing, where the original inserted; counting queries see one check-in more.
  A statement that fails there (an unguarded insert the capture already made: a new
  mayor's ``venue_mayors`` row) is found by ``check``, which replays each transaction
  once alone before the measured runs, and dropped from its transaction (counted in
  ``statements_dropped``); a transaction that still fails is left out
  (``failed_serially``).
- ``ROLLBACK`` writes no commit record: the WAL flush of a real ``COMMIT``
  (``synchronous_commit``) is not in the replay; nor is delivering ``NOTIFY``.
- Statements psycopg sent in one pipeline (``executemany``) are replayed one by one, and
  statements on another connection (a reader in autocommit) inside the same transaction.
- Planning differs. The service's connections prepare a statement run five times and
  PostgreSQL may then reuse a generic plan (no planning), except where the service
  sends statements unprepared on purpose. In ``simple`` mode (the default) the replay
  parses and plans every statement every time: PostgreSQL does more than for the
  endpoint. In ``prepared`` mode (``--replay-mode``) each pgbench connection prepares
  each literal statement once and reuses its plan when its check-in comes round again:
  less than for the endpoint. The two bound it.
- A few hundred check-ins are replayed over and over: their users' pages are hot in
  shared buffers, where the HTTP phase reads fresh users' history (``buffer reads``
  per check-in in the table says how much that matters).
"""

import os
import re
import statistics
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import psycopg
import scale_pgbench
import sql_trace
from seeding import ROOT, libpq_conninfo

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PATH = "/api/v1/checkins"
HOURS = timedelta(hours=2)  # token lifetime in process
PICK = "irl_pick"  # the scripts' variable
BUILT_IN = {"client_id", "default_seed", "random_seed", "scale", PICK}
# pgbench takes at most 128 scripts; and it parses a script in time quadratic in its
# size (it counts the lines before each command), so one script of every check-in
# (~20 kB each) would take minutes: files stay small.
MAX_FILES = 100
# what pgbench takes for a variable: a colon (not one of a ``::`` cast) and a name
VARIABLE = re.compile(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)")
HEAD = re.compile(r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\w+", re.IGNORECASE)
MAX_DROPS = 3  # statements a transaction may lose in ``check`` before it is left out


def bench_app(url: str, secret: str, env: dict[str, str | None]):
    """The app as the benchmark's gunicorn builds it: same database and token secret,
    and its settings read from the same environment (``env`` applied over this
    process's, ``None`` unsetting a variable, as ``apiserver.running_api`` does)."""
    from service import create_app

    saved = {key: os.environ.get(key) for key in env}
    try:
        for key, value in env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        return create_app(
            {"DATABASE_URL": url, "JWT_SECRET_KEY": secret, "JWT_ACCESS_TOKEN_EXPIRES": HOURS}
        )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def capture(app, jobs: list[tuple[int, str]]) -> list[dict]:
    """Run ``jobs`` (``(user_id, body)``) one after the other through the app; for each,
    its status, eligibility, wall time and statements (``sql_trace.Statement``)."""
    from flask_jwt_extended import create_access_token

    from service.database import Database

    engine = Database.state(app).engine
    with app.app_context():
        tokens = {user: create_access_token(identity=str(user)) for user, _ in jobs}
    client = app.test_client()
    client.get("/readyz")  # the engine's first connection: dialect set-up, not a check-in
    found = []
    with sql_trace.Trace(engine, render=True) as trace:
        for user_id, body in jobs:
            trace.take()
            started = time.perf_counter()
            response = client.post(
                PATH,
                data=body,
                headers={"Authorization": f"Bearer {tokens[user_id]}"},
                content_type="application/json",
            )
            wall = time.perf_counter() - started
            answer = response.get_json(silent=True) or {}
            found.append(
                {
                    "user_id": user_id,
                    "status": response.status_code,
                    "eligible": bool(answer.get("rewards", {}).get("eligible")),
                    "meetings": len(answer.get("meetings") or ()),
                    "wall_s": wall,
                    "statements": trace.take(),
                }
            )
    engine.dispose()
    return found


def transaction(statements: list) -> list[str] | None:
    """The literal statements of one captured check-in, in order, as one transaction;
    None if it sent none. A ROLLBACK followed by more statements (an attempt retried
    after a deadlock) drops what came before it; the COMMIT is left out (the replay
    ends in ROLLBACK)."""
    sent: list[str] = []
    retried = False
    for entry in statements:
        if entry.sql == sql_trace.ROLLBACK:
            retried = True
        elif not entry.marker:
            if retried:
                sent, retried = [], False
            sent += entry.literal
    return sent or None


def summary(captured: list[dict]) -> dict:
    """What the captured check-ins were and sent: statements and SQL time per check-in
    (live, in process: the round trips as the app saw them, COMMIT included)."""
    ok = [c for c in captured if c["status"] == 201]
    executions = [sum(len(s.literal) for s in c["statements"] if not s.marker) for c in ok]
    sql_s = [sum(s.seconds for s in c["statements"]) for c in ok]
    connections = [len({s.connection for s in c["statements"]}) for c in ok]
    return {
        "captured": len(captured),
        "statuses": {
            str(code): sum(1 for c in captured if c["status"] == code)
            for code in sorted({c["status"] for c in captured})
        },
        "eligible": sum(1 for c in ok if c["eligible"]),
        "with_meetings": sum(1 for c in ok if c["meetings"]),
        "statements_per_checkin": _mean(executions, 1),
        "statements_range": (min(executions), max(executions)) if executions else None,
        "sql_ms_per_checkin_live": _mean([s * 1000 for s in sql_s], 2),
        "wall_ms_per_checkin_in_process": _mean([c["wall_s"] * 1000 for c in ok], 2),
        "connections_per_checkin": _mean(connections, 2),
    }


def _mean(values: list[float], digits: int) -> float | None:
    return round(statistics.fmean(values), digits) if values else None


def check(conninfo: str, options: str, transactions: list[list[str]]) -> tuple[list, dict]:
    """Replay each transaction once, alone (``BEGIN`` ... ``ROLLBACK``, psycopg, simple
    statements). A statement that fails there (an insert the committed capture already
    made, unguarded by ``ON CONFLICT``: a new mayor) is left out of its transaction, up
    to ``MAX_DROPS`` a transaction, else the transaction is. The transactions kept, and
    the serial SQL time and this process's CPU (psycopg alone) per check-in."""
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
                    drops.append(f"{_head(sent[index])} ({type(exc).__name__})")
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
        "sql_ms_per_checkin_serial": _mean([t * 1000 for t in times], 2),
        # this process's CPU sending them through psycopg alone: what the same
        # statements cost a client without SQLAlchemy, Flask and the service around them
        "driver_cpu_ms_per_checkin": _mean([c * 1000 for c in cpus], 2),
    }


def one_round_trip(conninfo: str, options: str, transactions: list[list[str]]) -> dict:
    """Replay each kept transaction as ONE simple query (its statements joined), then
    ROLLBACK: what a check-in would cost if the service sent it in a single round trip
    (a stored procedure's floor). Client CPU (this process) and the backend's CPU
    (``/proc``) per check-in, and the wall time."""
    cpu_client, cpu_backend, walls = [], [], []
    with psycopg.connect(conninfo, options=options) as conn:
        stat = Path(f"/proc/{conn.info.backend_pid}/stat")

        def backend_s() -> float:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        for sent in transactions:
            client, backend, started = time.process_time(), backend_s(), time.perf_counter()
            conn.execute(";\n".join(sent), prepare=False)
            walls.append(time.perf_counter() - started)
            conn.rollback()
            cpu_client.append(time.process_time() - client)
            cpu_backend.append(backend_s() - backend)
    return {
        "checkins": len(transactions),
        "wall_ms_per_checkin": _mean([w * 1000 for w in walls], 2),
        "client_cpu_ms_per_checkin": _mean([c * 1000 for c in cpu_client], 2),
        "backend_cpu_ms_per_checkin": _mean([c * 1000 for c in cpu_backend], 2),
    }


def _head(sql: str) -> str:
    """What a statement does to which table: ``INSERT INTO venue_mayors``."""
    found = HEAD.search(sql)
    return " ".join(found.group(0).split()) if found else sql.split(None, 1)[0]


def write_scripts(
    transactions: list[list[str]], clients: int, folder: Path, mode: str = "simple"
) -> list[list[Path]]:
    """pgbench scripts in ``folder``, one list per client: client ``c`` replays the
    ``c``-th of every ``clients`` transactions, one file a transaction (as many as
    ``MAX_FILES``; beyond, a file picks one of its few with ``\\if``). ``mode``: the
    protocol pgbench will use (``prepared`` takes any ``:name`` for a variable)."""
    for sent in transactions:
        for sql in sent:
            names = set(VARIABLE.findall(sql))
            clash = names if mode != "simple" else BUILT_IN & names
            if clash:  # pgbench would substitute these (simple mode: only names it knows)
                raise ValueError(f"a captured statement contains :{clash.pop()} ({mode})")
    folder.mkdir(parents=True, exist_ok=True)
    found = []
    for client in range(min(clients, len(transactions))):
        share = transactions[client::clients]
        files = min(len(share), MAX_FILES)
        paths = []
        for index in range(files):
            lines: list[str] = []
            group = share[index::files]
            if len(group) > 1:
                lines.append(f"\\set {PICK} random(0, {len(group) - 1})")
            _tree(lines, group, 0, len(group))
            paths.append(folder / f"client{client}_{index}.sql")
            paths[-1].write_text("\n".join(lines) + "\n")
        found.append(paths)
    return found


def _tree(lines: list[str], group: list[list[str]], low: int, high: int) -> None:
    """``\\if`` over ``:irl_pick`` as a balanced tree, a transaction at each leaf."""
    if high - low == 1:
        lines.append("BEGIN;")
        lines += [sql.strip() + ";" for sql in group[low]]
        lines.append("ROLLBACK;")
        return
    middle = (low + high) // 2
    lines.append(f"\\if :{PICK} < {middle}")
    _tree(lines, group, low, middle)
    lines.append("\\else")
    _tree(lines, group, middle, high)
    lines.append("\\endif")


def service_options(app) -> str:
    """The ``options`` the service's connections are made with (its GUCs), read from one
    of its own connections."""
    from service.database import Database

    engine = Database.state(app).engine
    with engine.connect() as conn:
        options = conn.connection.dbapi_connection.info.get_parameters().get("options", "")
    engine.dispose()
    return options


def prepare(
    url: str, secret: str, env: dict, jobs: list, folder: Path, clients: int, mode: str
) -> dict:
    """Capture ``jobs``, check every transaction replays, write the scripts to
    ``folder`` (shares for ``clients``, for pgbench's ``mode``); the figures and what
    ``run`` needs."""
    conninfo = libpq_conninfo(url)
    app = bench_app(url, secret, env)
    options = service_options(app)
    started = time.perf_counter()
    captured = capture(app, jobs)
    figures = summary(captured)
    figures["capture_s"] = round(time.perf_counter() - started, 1)
    sent = [transaction(c["statements"]) for c in captured if c["status"] == 201]
    kept, checked = check(conninfo, options, [s for s in sent if s])
    figures.update(checked)
    if not kept:
        raise RuntimeError(
            f"no captured check-in replays: statuses {figures['statuses']},"
            f" failures {checked['failures']}"
        )
    scripts = write_scripts(kept, clients, folder, mode)
    figures["script_bytes"] = sum(path.stat().st_size for paths in scripts for path in paths)
    figures["mode"] = mode
    return {"figures": figures, "options": options, "scripts": scripts, "conninfo": conninfo}


def run(prepared: dict, seconds: int) -> dict:
    """The replay for ``seconds``: one pgbench process (one connection) per client, each
    on its own share of the check-ins, all at once."""
    return scale_pgbench.run_parallel(
        prepared["conninfo"],
        prepared["scripts"],
        1,
        seconds,
        mode=prepared["figures"]["mode"],
        options=prepared["options"],
        retries=3,
    )


def main() -> None:
    """Capture random seeded users' check-ins in process on the seeded world, then replay
    their statements one by one (psycopg alone) and in one round trip each; print the
    client and backend CPU per check-in of both."""
    import argparse
    import json

    from checkin_profile import seeded_jobs, world_url

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--checkins", type=int, default=300, help="check-ins to capture")
    parser.add_argument("--seed", type=int, default=None, help="which users (default: random)")
    args = parser.parse_args()
    url = world_url()
    app = bench_app(url, "replay-" + "x" * 41, {})
    options = service_options(app)
    captured = capture(app, seeded_jobs(url, args.checkins, args.seed))
    sent = [transaction(c["statements"]) for c in captured if c["status"] == 201]
    kept, checked = check(libpq_conninfo(url), options, [s for s in sent if s])
    print(json.dumps({"captured": summary(captured), "one_by_one": checked}, default=str))
    print(json.dumps({"one_round_trip": one_round_trip(libpq_conninfo(url), options, kept)}))


if __name__ == "__main__":
    main()
