"""Benchmark notifications: the nearby fan-out a check-in pays, and live-stream latency.

1. **Fan-out.** Three groups of senders (``notification_seeding``): (a) 500 mutual contacts,
   100 of them with a recent check-in 100-300 m away; (b) 500 contacts, all recent but
   ~25 km away; (c) no contacts. Each sender does one ``POST /api/v1/checkins`` at its own
   venue, sequentially (c=1) from a separate load process, groups interleaved round-robin,
   against gunicorn (gevent, 2 workers), after ``--warmup`` senders per group: enough for
   each worker's database connection to pass the ~10 runs of the candidate statement
   after which PostgreSQL settles on its generic plan (the custom plans the first runs get
   are several times slower: see the EXPLAIN lines). Reported per group:
   median / p95 / max latency and nearby notifications written per check-in (100 in (a),
   0 in (b) and (c), else a loud warning). (a) - (b) is what writing 100 notifications
   (quota upsert, inbox rows, NOTIFY payloads) adds; (b) - (c) what 500 contacts add
   (pair locks, meeting detection and the nearby candidate query). The candidate
   statement itself, built by ``service.notifications.nearby`` as the service sends it,
   is timed with ``EXPLAIN (ANALYZE, BUFFERS)`` for group-(a) and group-(b) senders.

2. **Streams.** A separate asyncio client process opens 1,000 SSE connections to
   ``GET /api/v1/me/notifications/stream`` (one per receiver, minted tokens) and waits for
   each one's ``retry:`` line. This process then writes notifications through the
   service's own outbox (``outbox.queue`` + ``db.session.commit()``: rows, then
   ``pg_notify`` on commit): ``--rounds`` transactions of one notification for each of
   ``--per-round`` random stream users, then one burst transaction for all of them. The
   client reports every event it received with its receive time; latency = receive time
   - the time the commit returned (same machine, same clock). Reported: streams opened,
   sent, received (a loud warning if they differ), latency median / p95 / p99 / max of
   the rounds and of the burst, and how long the whole burst took to arrive.

The benchmark owns its database (``BENCH_NOTIFY_DATABASE_URL``, default
``.../irl_bench_notify``): created with ``scripts/prepare_db.py``, migrated with Alembic,
seeded with COPY once (100 k clustered city venues via ``seeding.seed_venues``, a far
district, ~38 k users) and reset before every run (notifications, quotas, push deliveries,
the senders' check-ins and rewards deleted; receivers' check-ins re-made relative to now).
Results: stdout and ``bench/results/notifications.json`` (gunicorn log next to it).

Rerun: ``.venv/bin/python bench/notifications.py`` (``--help`` for the options), or
``make bench BENCH_NOTIFY_ARGS="..."``.
"""

import argparse
import asyncio
import http.client
import json
import multiprocessing
import os
import platform
import random
import re
import resource
import secrets
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import apiserver
import notification_seeding as people
import psycopg
import seeding
from checkin_throughput import code_version, other_benchmarks

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/irl_bench_notify"
RESULTS = Path(__file__).resolve().parent / "results"
STREAM_PATH = "/api/v1/me/notifications/stream"
CHECKIN_PATH = "/api/v1/checkins"
GROUPS = people.GROUPS
CONNECT_AT_ONCE = 100  # streams in their handshake at a time (the rest wait)
SETTLE_S = 0.5  # after every stream is open, before the first notification


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--venues", type=int, default=100_000, help="city venues (default 100,000)")
    add("--far-venues", type=int, default=2_000, help="venues of the far district")
    add("--senders", type=int, default=30, help="measured senders per group")
    add("--warmup", type=int, default=8, help="warm-up senders per group (not reported)")
    add("--contacts", type=int, default=500, help="contacts of an (a) or (b) sender")
    add("--nearby", type=int, default=100, help="of which near, for an (a) sender")
    add("--explain-samples", type=int, default=30, help="EXPLAIN ANALYZE runs per group")
    add("--streams", type=int, default=1000, help="open notification streams")
    add("--rounds", type=int, default=20, help="transactions of --per-round notifications")
    add("--per-round", type=int, default=50, help="notifications (users) per round")
    add("--round-gap", type=float, default=0.2, help="seconds between rounds")
    add("--open-seconds", type=float, default=60, help="at most this to open the streams")
    add("--drain-seconds", type=float, default=30, help="at most this for events to arrive")
    add("--workers", type=int, default=2, help="gunicorn workers (gevent)")
    add("--worker-connections", type=int, default=2000, help="gevent connections per worker")
    add("--seed", type=int, default=17, help="seed of the people and their check-ins")
    add("--output", type=Path, default=RESULTS / "notifications.json")
    return parser.parse_args()


def group_labels(args) -> dict[str, str]:
    """What each sender group is, for the table."""
    return {
        "a": f"(a) {args.contacts} contacts, {args.nearby} near",
        "b": f"(b) {args.contacts} contacts, none near",
        "c": "(c) no contacts",
    }


def raise_fd_limit(needed: int) -> tuple[int, int]:
    """Raise this process's open-file soft limit to at least ``needed`` (up to the hard
    limit; children, gunicorn included, inherit it); returns the new limits."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def cuts(values_ms: list[float]) -> dict:
    """Count, median, p95, p99, max and mean of latencies in ms."""
    values = sorted(values_ms)
    if not values:
        return {"n": 0}
    q = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else values * 99
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values), 2),
        "p95_ms": round(q[94], 2),
        "p99_ms": round(q[98], 2),
        "max_ms": round(values[-1], 2),
        "mean_ms": round(statistics.fmean(values), 2),
    }


# --- 1. fan-out ---------------------------------------------------------------------------


def checkin_jobs(by_group: dict, tokens: dict, warmup: int) -> list[dict]:
    """One check-in per sender: the warm-up senders first, then the measured ones, the
    groups round-robin (the order rotating every round)."""
    jobs = []
    rounds = max(len(senders) for senders in by_group.values())
    for index in range(rounds):
        shift = index % len(by_group)
        order = list(by_group)[shift:] + list(by_group)[:shift]
        for group in order:
            if index < len(by_group[group]):
                user_id, venue_id, lat, lon = by_group[group][index]
                body = {"venue_id": venue_id, "location": {"lat": lat, "lon": lon}}
                body["accuracy_m"] = 10
                jobs.append(
                    {
                        "group": group,
                        "sender_id": user_id,
                        "token": tokens[user_id],
                        "body": json.dumps(body),
                        "warmup": index < warmup,
                    }
                )
    return sorted(jobs, key=lambda job: not job["warmup"])  # stable: warm-ups first


def checkin_client(address: str, jobs: list[dict], results) -> None:
    """(Load process.) Send the check-ins one after the other on one keep-alive
    connection; put back one answer summary per job."""
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    answers = []
    for job in jobs:
        headers = {"Authorization": f"Bearer {job['token']}", "Accept": "application/json"}
        headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            conn.request("POST", CHECKIN_PATH, body=job["body"], headers=headers)
            response = conn.getresponse()
            status, raw = response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            status, raw = 0, repr(exc).encode()
        elapsed_ms = (time.perf_counter() - started) * 1000
        answer = json.loads(raw) if status == 201 else {}
        rewards = answer.get("rewards", {})
        answers.append(
            {
                "group": job["group"],
                "sender_id": job["sender_id"],
                "warmup": job["warmup"],
                "ms": round(elapsed_ms, 3),
                "status": status,
                "eligible": rewards.get("eligible"),
                "meetings": len(answer.get("meetings", [])),
                "badges": [badge["key"] for badge in rewards.get("badges", [])],
                "error": None if status == 201 else raw[:200].decode(errors="replace"),
            }
        )
    conn.close()
    results.put(answers)


def run_checkins(address: str, jobs: list[dict]) -> list[dict]:
    """Run ``checkin_client`` in a separate process; its answers."""
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    process = ctx.Process(target=checkin_client, args=(address, jobs, results), daemon=True)
    process.start()
    answers = results.get(timeout=60 + 30 * len(jobs))
    process.join(10)
    return answers


def notifications_written(conn: psycopg.Connection) -> dict[int, dict]:
    """Per sender: nearby notifications it caused, and notifications it got itself."""
    rows = conn.execute(
        "SELECT s.user_id,"
        " (SELECT count(*) FROM notifications n WHERE n.actor_id = s.user_id"
        "  AND n.kind = 'nearby'),"
        " (SELECT count(*) FROM notifications n WHERE n.user_id = s.user_id),"
        " (SELECT count(*) FROM meetings m WHERE m.user_id = s.user_id)"
        " FROM bench_notify_senders s"
    ).fetchall()
    return {row[0]: {"nearby": row[1], "own": row[2], "meetings": row[3]} for row in rows}


def summarise_fanout(answers: list[dict], written: dict, nearby: int) -> tuple[dict, list]:
    """Per group: latency cuts, notifications per check-in, status; and the warnings."""
    groups, warnings = {}, []
    for group in GROUPS:
        mine = [a for a in answers if a["group"] == group and not a["warmup"]]
        counts = [written[a["sender_id"]]["nearby"] for a in mine]
        expected = nearby if group == "a" else 0
        bad = [a for a in mine if a["status"] != 201 or not a["eligible"] or a["meetings"]]
        groups[group] = {
            **cuts([a["ms"] for a in mine]),
            "nearby_per_checkin": {
                "min": min(counts, default=None),
                "max": max(counts, default=None),
            },
            "nearby_total": sum(counts),
            "own_notifications": sum(written[a["sender_id"]]["own"] for a in mine),
            "meetings": sum(written[a["sender_id"]]["meetings"] for a in mine),
            "badges": sorted({key for a in mine for key in a["badges"]}),
            "not_201_eligible_or_with_meetings": len(bad),
            "first_error": next((a["error"] or a for a in bad), None),
            "latencies_ms": [a["ms"] for a in mine],
        }
        if any(count != expected for count in counts):
            warnings.append(
                f"group {group}: nearby notifications per check-in {sorted(set(counts))},"
                f" expected {expected} each"
            )
        if bad:
            warnings.append(f"group {group}: {len(bad)} check-ins not 201 + eligible + no meeting")
    return groups, warnings


def candidates_sql(sender_id: int, venue_id: int, lat: float, lon: float) -> tuple[str, dict]:
    """The fan-out's candidate statement and parameters for a check-in of ``sender_id`` at
    ``venue_id`` now, recorded from ``nearby.fan_out`` itself (``service_sql``'s way)."""
    import service_sql

    from geo.coords import LatLon
    from service.models import Checkin, User, Venue
    from service.notifications import nearby

    now = datetime.now(UTC)
    recorder = service_sql._Recorder()
    nearby.fan_out(
        db_session=recorder,
        sender=User(id=sender_id, handle="bench", display_name="Bench", location_sharing="exact"),
        checkin=Checkin(id=0, private=False, effective_at=now),
        venue=Venue(id=venue_id, name="Bench"),
        venue_position=LatLon(lat, lon),
        now=now,
    )
    return service_sql._compiled(recorder)


def _dollar_sql(sql: str) -> tuple[str, list[str]]:
    """``sql`` with ``$n`` for each distinct ``%(name)s`` (for PREPARE), and the names."""
    names: list[str] = []

    def number(match: re.Match) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    return re.sub(r"%\((\w+)\)s", number, sql), names


def _seq_scans(plan: dict) -> set[str]:
    """Tables a plan reads whole (``Seq Scan``)."""
    found = {plan["Relation Name"]} if plan["Node Type"] == "Seq Scan" else set()
    for child in plan.get("Plans", ()):
        found |= _seq_scans(child)
    return found


def _summary(runs: list[dict]) -> dict:
    """Median / p95 execution and planning, mean rows and buffers, tables read whole."""

    def cut(key: str) -> dict:
        values = sorted(run[key] for run in runs)
        return {
            "median": round(statistics.median(values), 3),
            "p95": round(values[min(len(values) - 1, int(len(values) * 0.95))], 3),
        }

    return {
        "samples": len(runs),
        "execution_ms": cut("execution_ms"),
        "planning_ms": cut("planning_ms"),
        "mean_rows": round(statistics.fmean(run["rows"] for run in runs), 1),
        "mean_shared_hit": round(statistics.fmean(run["shared_hit"] for run in runs), 1),
        "seq_scans": sorted(set().union(*(_seq_scans(run["plan"]["Plan"]) for run in runs))),
    }


def _explain_generic(conn: psycopg.Connection, statements: list[tuple[str, dict]]) -> dict:
    """The same statements as one prepared statement under ``plan_cache_mode =
    force_generic_plan``: the plan a connection switches to once a statement is prepared
    (psycopg prepares after 5 runs) and PostgreSQL finds the generic plan no costlier."""
    dollar, names = _dollar_sql(statements[0][0])
    conn.execute(f"PREPARE bench_candidates AS {dollar}")
    client = psycopg.ClientCursor(conn)
    runs = []
    try:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        for _sql, params in statements:
            arguments = ", ".join(["%s"] * len(names))
            client.execute(
                f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE bench_candidates({arguments})",
                [params[name] for name in names],
            )
            (plan,) = client.fetchone()[0]
            top = plan["Plan"]
            runs.append(
                {
                    "execution_ms": plan["Execution Time"],
                    "planning_ms": plan.get("Planning Time", 0.0),
                    "rows": top["Actual Rows"],
                    "shared_hit": top.get("Shared Hit Blocks", 0),
                    "plan": plan,
                }
            )
    finally:
        conn.execute("RESET plan_cache_mode")
        conn.execute("DEALLOCATE bench_candidates")
    return _summary(runs)


def explain_candidates(conninfo: str, by_group: dict, warmup: int, samples: int) -> dict:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of the candidate statement, ``samples`` runs over the
    measured senders of (a) and of (b): custom plans (parameters known: what an
    unprepared statement gets) and the generic plan; and the first (a) plans as text."""
    import service_sql

    report = {}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET jit = off")  # as the service's connections
        for group in ("a", "b"):
            senders = by_group[group][warmup:]
            statements = [candidates_sql(*senders[i % len(senders)]) for i in range(samples)]
            custom = [service_sql.explain(conn, sql, params) for sql, params in statements]
            report[group] = {"custom": _summary(custom)}
            report[group]["generic"] = _explain_generic(conn, statements)
            if group == "a":
                report["plan_a_custom"] = service_sql.explain_text(conn, *statements[0])
    return report


def measure_fanout(address: str, conninfo: str, by_group: dict, tokens: dict, args) -> dict:
    """Every sender's check-in, then what was written; per-group summary and warnings."""
    jobs = checkin_jobs(by_group, tokens, args.warmup)
    print(f"fan-out: {len(jobs)} check-ins, c=1 ...", flush=True)
    answers = run_checkins(address, jobs)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        written = notifications_written(conn)
    groups, warnings = summarise_fanout(answers, written, args.nearby)
    a, b, c = (groups[g].get("median_ms") for g in GROUPS)
    return {
        "groups": groups,
        "warnings": warnings,
        "warmup_checkins": sum(1 for answer in answers if answer["warmup"]),
        "differences_ms": {
            "a_minus_b_writing_nearby_notifications": round(a - b, 2) if a and b else None,
            "b_minus_c_500_contacts": round(b - c, 2) if b and c else None,
        },
    }


def print_fanout(fanout: dict, explained: dict, args) -> None:
    """The fan-out table and what its differences mean."""
    head = f"{'check-in by':30}{'n':>4}{'median':>9}{'p95':>9}{'max':>9}{'nearby/check-in':>17}"
    head += f"{'own notes':>11}{'bad':>5}"
    print(head + "\n" + "-" * len(head))
    labels = group_labels(args)
    for group, label in labels.items():
        g = fanout["groups"][group]
        per = g["nearby_per_checkin"]
        spread = f"{per['min']}" if per["min"] == per["max"] else f"{per['min']}-{per['max']}"
        print(
            f"{label:30}{g['n']:>4}{g.get('median_ms', 0):>9.2f}{g.get('p95_ms', 0):>9.2f}"
            f"{g.get('max_ms', 0):>9.2f}{spread:>17}{g['own_notifications']:>11}"
            f"{g['not_201_eligible_or_with_meetings']:>5}"
        )
    print(
        "(ms, one POST /checkins at a time; nearby/check-in: rows of kind 'nearby' with the"
        " sender as actor; own notes: notifications to the senders (badges); bad: not 201,"
        " not eligible or with a meeting)"
    )
    diff = fanout["differences_ms"]
    print(
        f"(a) - (b), writing {args.nearby} nearby notifications (quotas, rows, NOTIFY):"
        f" {diff['a_minus_b_writing_nearby_notifications']} ms median"
        f"\n(b) - (c), {args.contacts} contacts (pair locks, meeting detection, nearby"
        f" candidates): {diff['b_minus_c_500_contacts']} ms median"
    )
    for group in ("a", "b"):
        for kind in ("custom", "generic"):
            e = explained[group][kind]
            print(
                f"candidate statement alone, {labels[group]}, {kind} plan: EXPLAIN ANALYZE"
                f" x{e['samples']}: execution median {e['execution_ms']['median']} ms (p95"
                f" {e['execution_ms']['p95']}), planning {e['planning_ms']['median']} ms,"
                f" {e['mean_rows']:g} rows, {e['mean_shared_hit']:g} buffer hits, seq scans"
                f" {', '.join(e['seq_scans']) or 'none'}"
            )


# --- 2. streams: the client (a separate process) ------------------------------------------


async def _read_piece(reader: asyncio.StreamReader, chunked: bool) -> bytes:
    """The next piece of the body (one chunk when chunked); b"" at its end."""
    if not chunked:
        return await reader.read(65536)
    size_line = await reader.readline()
    if not size_line:
        return b""
    size = int(size_line.split(b";")[0].strip() or b"0", 16)
    if size == 0:
        return b""
    return (await reader.readexactly(size + 2))[:-2]


def _on_frame(frame: bytes, received: float, user_id: int, state: dict) -> None:
    """Handle one SSE frame: ``retry:`` marks the stream ready, a notification is kept."""
    fields: dict[str, str] = {}
    for line in frame.decode().split("\n"):
        if line.startswith(":") or ":" not in line:
            continue
        key, _, value = line.partition(":")
        fields[key] = value.removeprefix(" ")
    if "retry" in fields:
        state["ready"].append(user_id)
    elif fields.get("event") == "notification":
        note = json.loads(fields["data"])
        data = note.get("data") or {}
        state["events"].append((user_id, note["id"], received, data.get("batch")))
        if data.get("bench") == state["bench"]:
            state["bench_events"] += 1
    elif "event" in fields:
        state["other_events"].append(fields["event"])


async def _stream(address: str, user_id: int, token: str, gate, state: dict) -> None:
    """Hold one notification stream open, recording what arrives, until cancelled."""
    host, port = address.rsplit(":", 1)
    request = (
        f"GET {STREAM_PATH} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n"
        "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
    ).encode()
    writer = None
    try:
        async with gate:
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(request)
            await writer.drain()
            status = await reader.readline()
            headers = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                key, _, value = line.decode().partition(":")
                headers[key.strip().lower()] = value.strip().lower()
        if b" 200 " not in status:
            raise RuntimeError(f"stream answered {status.decode().strip()}")
        chunked = headers.get("transfer-encoding") == "chunked"
        buffer = b""
        while piece := await _read_piece(reader, chunked):
            received = time.time()
            buffer += piece
            while b"\n\n" in buffer:
                frame, buffer = buffer.split(b"\n\n", 1)
                _on_frame(frame, received, user_id, state)
        state["closed"] += 1
    except (OSError, RuntimeError, ValueError, asyncio.IncompleteReadError) as exc:
        state["errors"].append(f"user {user_id}: {exc!r}")
    finally:
        if writer is not None:
            writer.close()


async def _until(condition, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


async def _client_main(address, users, pipe, open_s, drain_s, bench) -> None:
    state = {"ready": [], "events": [], "bench_events": 0, "other_events": []}
    state |= {"errors": [], "closed": 0, "bench": bench}
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)
    started = time.perf_counter()
    tasks = [asyncio.create_task(_stream(address, u, t, gate, state)) for u, t in users]
    await _until(lambda: len(state["ready"]) + len(state["errors"]) >= len(users), open_s)
    pipe.send(
        {
            "ready_users": state["ready"],
            "open_s": round(time.perf_counter() - started, 2),
            "errors": state["errors"][:20],
            "failed": len(users) - len(state["ready"]),
        }
    )
    expected = await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
    await _until(lambda: state["bench_events"] >= expected, drain_s)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    pipe.send({key: state[key] for key in ("events", "other_events", "errors", "closed")})


def stream_client(address: str, users: list, pipe, open_s: float, drain_s: float, bench: str):
    """(Client process.) Open one stream per ``(user_id, token)``; send back the users
    whose stream is ready, then wait for the number of notifications to expect, and send
    back every event received ``(user_id, notification id, receive time, batch)``."""
    raise_fd_limit(len(users) + 256)
    asyncio.run(_client_main(address, users, pipe, open_s, drain_s, bench))


# --- 2. streams: the writer (this process) and the report ---------------------------------


def send_batches(app, ready: list[int], args, bench: str) -> list[dict]:
    """Write the rounds and the burst through the outbox, one transaction each; when each
    commit started and returned (``time.time()``)."""
    from service.database import db
    from service.notifications import outbox
    from service.notifications.messages import Draft

    rng = random.Random(args.seed)
    plan = [
        (f"round {r}", rng.sample(ready, min(args.per_round, len(ready))))
        for r in range(args.rounds)
    ]
    plan.append(("burst", list(ready)))
    batches = []
    with app.app_context():
        for index, (label, users) in enumerate(plan):
            time.sleep(SETTLE_S if index in (0, len(plan) - 1) else args.round_gap)
            sent_at = time.time()
            for user_id in users:
                data = {"bench": bench, "batch": label, "sent_at": sent_at}
                draft = Draft(user_id=user_id, kind="badge", message="Benchmark", data=data)
                outbox.queue(db.session, draft)
            db.session.commit()
            committed = time.time()
            batches.append({"batch": label, "users": len(users), "committed": committed})
            batches[-1]["commit_ms"] = round((committed - sent_at) * 1000, 2)
    return batches


def receive(pipe, timeout_s: float, what: str):
    """The client's next message, or an error naming ``what`` it was waiting for."""
    if not pipe.poll(timeout_s):
        raise RuntimeError(f"the stream client sent no {what} in {timeout_s:g} s")
    return pipe.recv()


def measure_streams(address: str, url: str, secret: str, users: list[int], tokens: dict, args):
    """Open the streams, send the notifications, collect what arrived; the summary."""
    from service import create_app

    bench = secrets.token_hex(6)
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    pairs = [(user_id, tokens[user_id]) for user_id in users]
    client_args = (address, pairs, child, args.open_seconds, args.drain_seconds, bench)
    process = ctx.Process(target=stream_client, args=client_args, daemon=True)
    process.start()
    print(f"streams: opening {len(users):,} ...", flush=True)
    opened = receive(parent, args.open_seconds + 60, "ready report")
    print(
        f"  {len(opened['ready_users']):,} open in {opened['open_s']} s"
        f" ({opened['failed']} failed); sending ...",
        flush=True,
    )
    app = create_app({"DATABASE_URL": url, "JWT_SECRET_KEY": secret})
    batches = send_batches(app, opened["ready_users"], args, bench)
    parent.send(sum(batch["users"] for batch in batches))
    got = receive(parent, args.drain_seconds + 60, "events")
    process.join(10)
    with psycopg.connect(seeding.libpq_conninfo(url)) as conn:
        sent = conn.execute(
            "SELECT id, user_id, data->>'batch' FROM notifications WHERE data->>'bench' = %s",
            (bench,),
        ).fetchall()
    return summarise_streams(opened, batches, sent, got)


def summarise_streams(opened: dict, batches: list[dict], sent: list, got: dict) -> dict:
    """Sent against received, and latencies of the rounds and of the burst."""
    committed = {batch["batch"]: batch["committed"] for batch in batches}
    sent_ids = {(user_id, note_id): batch for note_id, user_id, batch in sent}
    events = [e for e in got["events"] if (e[0], e[1]) in sent_ids]
    received = {(user_id, note_id) for user_id, note_id, *_ in events}
    latency = {"rounds": [], "burst": []}
    for user_id, note_id, at, _batch in events:
        batch = sent_ids[(user_id, note_id)]
        latency["burst" if batch == "burst" else "rounds"].append((at - committed[batch]) * 1000)
    missing = sorted(set(sent_ids) - received)
    burst = next(batch for batch in batches if batch["batch"] == "burst")
    return {
        "streams_requested": len(opened["ready_users"]) + opened["failed"],
        "streams_opened": len(opened["ready_users"]),
        "open_s": opened["open_s"],
        "open_errors": opened["errors"],
        "sent": len(sent_ids),
        "received": len(received),
        "duplicates": len(events) - len(received),
        "unexpected_events": len(got["events"]) - len(events),
        "other_events": got["other_events"][:20],
        "missing": [list(key) for key in missing[:50]],
        "client_errors": got["errors"][:20],
        "closed_by_server": got["closed"],
        "rounds": {
            "transactions": len(batches) - 1,
            "sent": sum(1 for batch in sent_ids.values() if batch != "burst"),
            **cuts(latency["rounds"]),
        },
        "burst": {
            "users": burst["users"],
            "sent": sum(1 for batch in sent_ids.values() if batch == "burst"),
            "commit_ms": burst["commit_ms"],
            **cuts(latency["burst"]),
        },
        "round_commit_ms_median": round(statistics.median(b["commit_ms"] for b in batches[:-1]), 2)
        if len(batches) > 1
        else None,
    }


def stream_warnings(streams: dict) -> list[str]:
    """Loud lines for anything that did not arrive as sent."""
    warnings = []
    if streams["streams_opened"] < streams["streams_requested"]:
        warnings.append(
            f"only {streams['streams_opened']} of {streams['streams_requested']} streams opened:"
            f" {streams['open_errors'][:3]}"
        )
    if streams["received"] != streams["sent"]:
        warnings.append(
            f"streams: sent {streams['sent']}, received {streams['received']}"
            f" (missing e.g. {streams['missing'][:5]})"
        )
    if streams["closed_by_server"]:
        warnings.append(f"streams: the server ended {streams['closed_by_server']} streams early")
    if streams["duplicates"] or streams["client_errors"]:
        warnings.append(
            f"streams: {streams['duplicates']} duplicates, client errors"
            f" {streams['client_errors'][:3]}"
        )
    return warnings


def print_streams(streams: dict, args) -> None:
    """The stream table."""
    print(
        f"streams opened: {streams['streams_opened']:,} of {streams['streams_requested']:,}"
        f" in {streams['open_s']} s; notifications sent {streams['sent']:,}, received"
        f" {streams['received']:,} ({streams['duplicates']} duplicates)"
    )
    head = f"{'delivery (commit -> client)':34}{'sent':>6}{'recv':>6}{'median':>9}{'p95':>9}"
    head += f"{'p99':>9}{'max':>9}{'commit':>9}"
    print(head + "\n" + "-" * len(head))
    rounds, burst = streams["rounds"], streams["burst"]
    rows = (
        (f"rounds ({args.rounds} x {args.per_round})", rounds, streams["round_commit_ms_median"]),
        (f"burst (1 x {burst['users']:,})", burst, burst["commit_ms"]),
    )
    for label, r, commit in rows:
        print(
            f"{label:34}{r['sent']:>6}{r['n']:>6}{r.get('median_ms', 0):>9.1f}"
            f"{r.get('p95_ms', 0):>9.1f}{r.get('p99_ms', 0):>9.1f}{r.get('max_ms', 0):>9.1f}"
            f"{commit or 0:>9.1f}"
        )
    print(
        "(ms from the commit returning to the client reading the event; commit: median time"
        " of the commit itself, which writes the rows and NOTIFYs)"
        f"\nthe whole burst of {burst['n']:,} arrived {burst.get('max_ms', 0):.0f} ms after its"
        " commit returned"
    )


# --- main -----------------------------------------------------------------------------------


def prepare(conninfo: str, args) -> dict:
    """Venues and people (seeded once), then the per-run reset; what was done."""
    centres, origin = seeding.load_centres()
    print(f"cluster centres: {len(centres):,} ({origin})", flush=True)
    options = {
        key: getattr(args, key)
        for key in ("venues", "far_venues", "senders", "warmup", "contacts", "nearby", "seed")
    }
    options["senders"] += options.pop("warmup")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        venues = conn.execute("SELECT count(*) FROM venues WHERE source = 'bench'").fetchone()[0]
        previous = people.seeded_options(conn)
        if venues < args.venues or (previous and previous["options"] != options):
            people.drop_people(conn)  # the people refer to the venues about to be re-made
        print(f"seeding {args.venues:,} venues and a far district (skipped if there) ...")
        venue_seed = seeding.seed_venues(conn, args.venues, centres)
        far_seed = people.seed_far_venues(conn, args.far_venues)
        print(f"seeding senders and contacts (skipped if there) ... {options}", flush=True)
        people_seed = people.seed_people(conn, options)
        print(f"  {people_seed or 'already seeded'}", flush=True)
        refresh = people.refresh(conn)
        print(f"reset and re-made receivers' check-ins: {refresh}", flush=True)
        versions = conn.execute("SELECT version(), postgis_lib_version()").fetchone()
        return {
            "seed": {"venues": venue_seed, "far": far_seed, "people": people_seed},
            "seeded": people.seeded_options(conn),
            "refresh": refresh,
            "facts": {**people.facts(conn), "postgres": versions[0], "postgis": versions[1]},
            "senders": people.senders(conn),
            "stream_users": people.stream_users(conn, args.streams),
        }


def main() -> None:
    """Prepare, seed, reset, serve, measure both parts, report."""
    args = parse_args()
    started = time.perf_counter()
    load_before = os.getloadavg()
    busy = other_benchmarks()
    if busy:
        print("WARNING: other benchmarks or servers are running; numbers will be skewed:")
        print("\n".join(f"  {line}" for line in busy), flush=True)
    fd_limit = raise_fd_limit(args.streams + 1024)
    url = os.environ.get("BENCH_NOTIFY_DATABASE_URL", DEFAULT_URL)
    conninfo = seeding.libpq_conninfo(url)
    seeding.prepare_and_migrate(url)
    state = prepare(conninfo, args)
    by_group = state["senders"]
    print(f"database: {state['facts']}", flush=True)
    print(f"EXPLAIN ANALYZE of the candidate statement x{args.explain_samples} ...", flush=True)
    explained = explain_candidates(conninfo, by_group, args.warmup, args.explain_samples)

    secret = secrets.token_urlsafe(48)
    senders = [row[0] for rows in by_group.values() for row in rows]
    tokens = apiserver.mint_tokens(url, secret, senders + state["stream_users"])
    os.environ["GUNICORN_WORKER_CONNECTIONS"] = str(args.worker_connections)
    os.environ.pop("GUNICORN_WORKER_CLASS", None)  # gunicorn.conf.py's default: gevent
    RESULTS.mkdir(exist_ok=True)
    log = RESULTS / "notifications.gunicorn.log"
    with apiserver.running_api(
        url, workers=args.workers, threads=1, log=log, jwt_secret=secret
    ) as address:
        fanout = measure_fanout(address, conninfo, by_group, tokens, args)
        streams = measure_streams(address, url, secret, state["stream_users"], tokens, args)
        stopping = time.perf_counter()
    stop_s = round(time.perf_counter() - stopping, 1)
    warnings = fanout["warnings"] + stream_warnings(streams)
    load_after = os.getloadavg()
    code = code_version()
    total_s = round(time.perf_counter() - started, 1)

    facts = state["facts"]
    dirty = ", uncommitted service changes" if code.get("service_changes_uncommitted") else ""
    print(
        f"\nnotifications (code {code.get('commit')}{dirty}): {facts['users']:,} users,"
        f" {facts['venues']:,} venues, {facts['checkins']:,} check-ins; gunicorn"
        f" {args.workers} gevent workers, {os.cpu_count()} CPUs; load average"
        f" {load_before[0]:.2f} before, {load_after[0]:.2f} after\n"
    )
    print_fanout(fanout, explained, args)
    print()
    print_streams(streams, args)
    for line in warnings:
        print(f"WARNING: {line}")
    print(f"\ntotal run time {total_s} s (gunicorn took {stop_s} s to stop)")
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {key: str(value) for key, value in vars(args).items()},
        "code": code,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": [round(value, 2) for value in load_before],
            "load_average_after": [round(value, 2) for value in load_after],
            "open_files_limit": list(fd_limit),
        },
        "other_benchmarks_running_at_start": busy,
        "database": facts,
        "seed": state["seed"],
        "seeded": state["seeded"],
        "refresh": state["refresh"],
        "fanout": fanout,
        "explain_candidates": explained,
        "streams": streams,
        "warnings": warnings,
        "gunicorn_stop_s": stop_s,
        "total_s": total_s,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"results written to {args.output}")


if __name__ == "__main__":
    main()
