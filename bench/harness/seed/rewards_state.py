"""The rewards state a seeded history implies (``rewards_state.sql``), and the ring of
mutual contacts."""

import re
from pathlib import Path

import psycopg

from bench.harness.seed.venues import TIMEZONE

SCRIPT = Path(__file__).with_suffix(".sql")
PARAMS = {"zone": TIMEZONE, "mayorship_points": 25}


def derive(conn: psycopg.Connection, laps) -> None:
    """Run ``rewards_state.sql``, each ``-- name_s`` step timed."""
    steps = re.split(r"^-- (\w+_s)$", SCRIPT.read_text(), flags=re.MULTILINE)[1:]
    for name, script in zip(steps[::2], steps[1::2], strict=True):
        for statement in script.split(";\n"):
            if re.search(r"^\s*[A-Z]", statement, flags=re.MULTILINE):  # not comments alone
                conn.execute(statement, PARAMS)
        laps(name)


def ring(conn: psycopg.Connection, contacts: int) -> None:
    """Make each user the mutual contact of ``contacts / 2`` users either side on a ring."""
    conn.execute(
        "CREATE TEMP TABLE bench_ring ON COMMIT DROP AS SELECT id AS user_id,"
        " (row_number() OVER (ORDER BY md5(id::text)) - 1)::int AS pos FROM users"
    )
    conn.execute("CREATE UNIQUE INDEX ON bench_ring (pos)")
    users = conn.execute("SELECT count(*) FROM bench_ring").fetchone()[0]
    conn.execute(
        "INSERT INTO relationships (user_id, other_id, i_follow, they_follow)"
        " SELECT a.user_id, b.user_id, true, true FROM bench_ring a"
        " CROSS JOIN generate_series(-%(half)s::int, %(half)s::int) AS k"
        " JOIN bench_ring b ON b.pos = ((a.pos + k) %% %(n)s::int + %(n)s::int) %% %(n)s::int"
        " WHERE k <> 0 ORDER BY 1, 2",
        {"half": contacts // 2, "n": users},
    )
    conn.execute(
        "INSERT INTO follows (follower_id, followee_id, via)"
        " SELECT user_id, other_id, 'app' FROM relationships ORDER BY 1, 2"
    )
