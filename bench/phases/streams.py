"""Notification delivery latency from the outbox's commit to open SSE streams (README)."""

import multiprocessing
import random
import secrets
import statistics
import time

import psycopg

from bench.harness.sse import stream_client
from bench.phases.run import Run

ROUNDS, PER_ROUND, GAP_S, SETTLE_S = 20, 50, 0.2, 0.5
OPEN_S, DRAIN_S = 60.0, 30.0


def _latencies(values_ms: list[float], sent: int) -> dict:
    """A table row's figures: median, p99, events received, and how many never came."""
    ordered = sorted(values_ms)
    cut = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else None
    found = {"requests": len(ordered), "errors": {"missing": sent - len(ordered)}}
    if ordered:
        found.update(median_ms=round(statistics.median(ordered), 2), max_ms=round(ordered[-1], 2))
        found["p99_ms"] = round(cut[98], 2) if cut else found["max_ms"]
    return found


def _send(run: Run, ready: list[int], bench: str) -> list[tuple[str, int, float]]:
    """The rounds and the burst through the outbox: ``(batch, users, committed at)``."""
    from service.database import db
    from service.notifications import outbox
    from service.notifications.messages import Draft

    rng = random.Random(run.args.seed)
    plan = [(f"round {r}", rng.sample(ready, min(PER_ROUND, len(ready)))) for r in range(ROUNDS)]
    plan.append(("burst", list(ready)))
    batches = []
    with run.app.app_context():
        for index, (batch, users) in enumerate(plan):
            time.sleep(SETTLE_S if index in (0, len(plan) - 1) else GAP_S)
            for user_id in users:
                data = {"bench": bench, "batch": batch}
                outbox.queue(
                    db.session, Draft(user_id=user_id, kind="badge", message="Bench", data=data)
                )
            db.session.commit()
            batches.append((batch, len(users), time.time()))
    return batches


def measure(run: Run, address: str, users: list[int]) -> dict[str, dict]:
    """Open the streams, send, collect; the rows (rounds, burst) and what was opened."""
    print(f"streams: {len(users):,} ...", flush=True)
    bench = secrets.token_hex(6)
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    pairs = [(user_id, run.tokens[user_id]) for user_id in users]
    process = ctx.Process(
        target=stream_client, args=(address, pairs, child, OPEN_S, DRAIN_S, bench), daemon=True
    )
    process.start()
    if not parent.poll(OPEN_S + 60):
        raise RuntimeError("the stream client opened no streams")
    opened = parent.recv()
    print(f"  {len(opened['ready_users']):,} streams open in {opened['open_s']} s", flush=True)
    batches = _send(run, opened["ready_users"], bench)
    parent.send(sum(count for _, count, _ in batches))
    got = parent.recv() if parent.poll(DRAIN_S + 60) else {"events": [], "errors": ["no answer"]}
    process.join(10)
    with psycopg.connect(run.conninfo, autocommit=True) as conn:
        query = "DELETE FROM notifications WHERE data->>'bench' = %s"
        sent = conn.execute(query + " RETURNING id, user_id, data->>'batch'", (bench,)).fetchall()
    committed = {batch: at for batch, _, at in batches}
    batch_of = {(user_id, note_id): batch for note_id, user_id, batch in sent}
    latency: dict[str, list[float]] = {"rounds": [], "burst": []}
    for user_id, note_id, at in got["events"]:
        if batch := batch_of.get((user_id, note_id)):
            kind = "burst" if batch == "burst" else "rounds"
            latency[kind].append((at - committed[batch]) * 1000)
    bursts = list(batch_of.values()).count("burst")
    found = {"streams_rounds": _latencies(latency["rounds"], len(batch_of) - bursts)}
    found["streams_burst"] = _latencies(latency["burst"], bursts)
    opened.update(ready_users=len(opened["ready_users"]), client_errors=got["errors"])
    found["streams_rounds"]["streams"] = opened
    return found
