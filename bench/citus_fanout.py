"""How a fan-out's cost grows with the cluster: the service's own "people by id"
statement (``service.users.names.people``, the second step of every "contact ids
first" read) for 50 and 5 users, on single-node PostgreSQL and on Citus clusters of 1,
2 and 4 workers with the same 32 shards and the same 30,000 users, interleaved rounds.

    .venv/bin/python bench/citus_fanout.py            # about 3 minutes

Each cluster is the tests' (``tests/citus_cluster.py``, through its command line), kept
in ``bench/results/tmp/fanout-<workers>`` and stopped after; migrations distribute it.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bench.harness.database import ROOT
from service.users.names import people

SINGLE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/irl_bench_fanout"
USERS = 30_000
FILL = text(
    "INSERT INTO users (handle, email, display_name, password_hash) "
    "SELECT 'f' || n, 'f' || n || '@example.com', 'F ' || n, 'x' "
    "FROM generate_series(1, :users) AS n"
)


def _cli(port: int, *args: str) -> None:
    command = [sys.executable, "-m", "tests.citus_cluster", "--port", str(port), *args]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)


def _migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    alembic = Path(sys.executable).parent / "alembic"
    subprocess.run(
        [str(alembic), "upgrade", "head"], cwd=ROOT, env=env, check=True, capture_output=True
    )


def _prepared(url: str):
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(FILL, {"users": USERS})
        conn.execute(text("ANALYZE users"))
    return engine


def _time(engine, count: int, calls: int, rng: random.Random) -> float:
    """Median ms of ``people`` for ``count`` random users, ``calls`` times."""
    took = []
    with Session(engine) as session:
        people(session, [1])  # connections to the workers made and cached
        for _ in range(calls):
            ids = rng.sample(range(1, USERS + 1), count)
            started = time.perf_counter()
            found = people(session, ids)
            took.append((time.perf_counter() - started) * 1000)
            assert len(found) == count
            session.rollback()
    return statistics.median(took)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--shards", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--port", type=int, default=9730)
    args = parser.parse_args()
    sizes = [int(n) for n in args.workers.split(",")]
    subprocess.run([sys.executable, "scripts/prepare_db.py", SINGLE_URL], cwd=ROOT, check=True)
    with create_engine(SINGLE_URL).begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    _migrate(SINGLE_URL)
    engines = {"single node": _prepared(SINGLE_URL)}
    started = []
    try:
        for workers in sizes:
            port = args.port + 10 * workers
            root = Path(ROOT) / "bench" / "results" / "tmp" / f"fanout-{workers}"
            _cli(
                port,
                "--workers",
                str(workers),
                "--shards",
                str(args.shards),
                "start",
                str(root),
                "--database",
                "irl_fanout",
            )
            started.append((port, workers, root))
            url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/irl_fanout"
            _migrate(url)
            engines[f"{workers} worker{'s' if workers > 1 else ''}"] = _prepared(url)
        rng = random.Random(7)
        results = {name: {50: [], 5: []} for name in engines}
        for _ in range(args.rounds):
            for name, engine in engines.items():
                for count in (50, 5):
                    results[name][count].append(_time(engine, count, args.calls, rng))
        print(
            f"people by id, median ms of {args.calls} calls, median of {args.rounds} rounds "
            f"({args.shards} shards on every cluster, {USERS:,} users)"
        )
        print(f"{'':14}{'50 users':>10}{'5 users':>10}")
        for name, by_count in results.items():
            fifty, five = (statistics.median(by_count[n]) for n in (50, 5))
            print(f"{name:14}{fifty:10.2f}{five:10.2f}")
    finally:
        for engine in engines.values():
            engine.dispose()
        for port, workers, root in started:
            _cli(port, "--workers", str(workers), "stop", str(root))


if __name__ == "__main__":
    main()
