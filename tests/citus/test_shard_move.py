"""Moving a shard (``citus_move_shard_placement``) while phones keep checking in loses
nothing: every check-in answered 201 is stored, whole, no answer is a 500, and the
moved users' rows end on the other worker, every co-located table's shard with them."""

import time

from psycopg import errors as pg_errors
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.citus.consistency import answers_problems, lost_or_half_written
from tests.citus.load import Load, Phone, app_send, users_on_each_worker, venue_of
from tests.conftest import TEST_DATABASE_URL
from tests.live import wait_until

PER_WORKER = 4  # phones whose user lives on each worker
MOVE_TRIES = 5
# Tables of the user group whose shard must travel with the users shard.
CO_LOCATED = ("checkins", "points_ledger", "relationships", "idempotency_keys")


def _transfer_mode(conn) -> str:
    """``force_logical`` (writes go on during the copy) where the cluster can replicate
    logically, else ``block_writes`` (writes to the moving shards wait for the copy)."""
    return "force_logical" if conn.scalar(text("SHOW wal_level")) == "logical" else "block_writes"


def _move(conn, shard: int, source: int, target: int, mode: str) -> int:
    """Move ``shard`` (and its co-located shards) from worker ``source`` to ``target``;
    how many tries it took. A ``block_writes`` move waits for the check-ins holding its
    shards while they wait for it: Citus cancels one side of that distributed deadlock,
    sometimes the move, which an operator then runs again."""
    for attempt in range(1, MOVE_TRIES + 1):
        try:
            conn.execute(
                text(
                    "SELECT citus_move_shard_placement(:shard, '127.0.0.1', :source,"
                    " '127.0.0.1', :target, shard_transfer_mode => CAST(:mode AS"
                    " citus.shard_transfer_mode))"
                ),
                {"shard": shard, "source": source, "target": target, "mode": mode},
            )
            return attempt
        except DBAPIError as exc:
            if not isinstance(exc.orig, pg_errors.DeadlockDetected) or attempt == MOVE_TRIES:
                raise
    raise AssertionError("unreachable")


def _placements(conn, table: str, user_ids: list[int]) -> dict[int, tuple[int, int]]:
    """user id → (shard, worker port) of ``table``'s shard for that user."""
    rows = conn.execute(
        text(
            "SELECT u.id, s.shardid, s.nodeport FROM unnest(CAST(:ids AS bigint[])) u(id)"
            " JOIN citus_shards s"
            " ON s.shardid = get_shard_id_for_distribution_column(:table, u.id)"
        ),
        {"ids": user_ids, "table": table},
    )
    return {row.id: (row.shardid, row.nodeport) for row in rows}


def _shard_to_move(conn, placed: dict[int, tuple[int, int]]) -> tuple[int, int, int]:
    """(shard, source, target): of the worker holding the most users shards, the one
    holding the most phones' users, to the other worker. One shard, so that no worker is
    ever left without users shards (the routing test wants people on both)."""
    shards = conn.execute(
        text("SELECT shardid, nodeport FROM citus_shards WHERE table_name = 'users'::regclass")
    ).all()
    workers = list(conn.scalars(text("SELECT node_port FROM citus_get_active_worker_nodes()")))
    source = max(workers, key=lambda w: sum(port == w for _, port in shards))
    target = next(w for w in workers if w != source)
    on_source = [shard for shard, port in placed.values() if port == source]
    return max(set(on_source), key=on_source.count), source, target


def test_moving_a_users_shard_under_load_loses_nothing(live_app, distributed, monkeypatch):
    monkeypatch.setitem(live_app.config, "CHECKINS_PER_HOUR", 1_000_000)
    send = app_send(live_app)
    users = users_on_each_worker(send, TEST_DATABASE_URL, PER_WORKER)
    phones = [Phone(send, u, venue_of(send, u, index)) for index, u in enumerate(users)]
    for phone in phones:  # each venue's first check-in (it writes the venue's city)
        phone.check_in()
    ids = [phone.user_id for phone in phones]
    with distributed.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        mode = _transfer_mode(conn)
        before = _placements(conn, "users", ids)
        shard, source, target = _shard_to_move(conn, before)
        with Load(phones) as load:
            wait_until(lambda: all(len(p.acknowledged) >= 2 for p in phones), "load before")
            started = time.monotonic()
            tries = _move(conn, shard, source, target, mode)
            finished = time.monotonic()
            wait_until(
                lambda: all(p.answered_since(finished) for p in phones),
                "every phone to be answered 201 after the move",
            )
        after = {table: _placements(conn, table, ids) for table in ("users", *CO_LOCATED)}
    moved = [user_id for user_id, (placed, _port) in before.items() if placed == shard]
    during = sum(1 for p in phones for t in p.answered_at if started < t < finished)
    print(
        f"shard move ({mode}): users shard {shard} ({len(moved)} of {len(phones)} phones' "
        f"users) {source} → {target} in {finished - started:.1f} s ({tries} tries); "
        f"{load.acknowledged()} check-ins acknowledged, {during} during the move; "
        f"statuses {load.statuses()} {load.samples()}"
    )
    problems = answers_problems(phones) + lost_or_half_written(TEST_DATABASE_URL, phones)
    assert not problems, "\n".join(problems)
    for user_id, (placed, port) in before.items():
        expected = target if placed == shard else port
        for table, now in after.items():  # the co-located shards went along
            assert now[user_id][1] == expected, f"{table} of user {user_id}: {now}"
