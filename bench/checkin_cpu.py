"""Where a check-in's Python CPU goes, by package: check-ins of random seeded users run
in process (Flask's test client, as ``checkin_profile``) under ``cProfile`` timed by this
process's CPU clock, each function's own time charged to its package (``service/x``,
``geo``, or the installed distribution: sqlalchemy, psycopg, flask, marshmallow ...).

The profiler's own overhead inflates every figure alike, so read the shares; the line
"CPU ms per check-in" is measured on a second, unprofiled pass over other users.

    .venv/bin/python bench/checkin_cpu.py --checkins 300
"""

import argparse
import cProfile
import pstats
import time
from collections import defaultdict
from datetime import timedelta

from checkin_profile import PATH, seeded_jobs, world_url


def _package(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    for top in ("/service/", "/geo/"):
        if top in filename:
            rest = filename.split(top, 1)[1]
            return top.strip("/") + ("/" + rest.split("/", 1)[0] if "/" in rest else "")
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C: sockets, json, re ...)"
    return "python stdlib"


def run(url: str, count: int, seed: int | None) -> dict:
    """Profile ``count`` check-ins, then time ``count`` others unprofiled."""
    from flask_jwt_extended import create_access_token

    from service import create_app

    jobs = seeded_jobs(url, 2 * count, seed)
    app = create_app(
        {
            "DATABASE_URL": url,
            "JWT_SECRET_KEY": "bench-cpu-" + "x" * 32,
            "JWT_ACCESS_TOKEN_EXPIRES": timedelta(hours=2),
        }
    )
    with app.app_context():
        tokens = {user: create_access_token(identity=str(user)) for user, _ in jobs}
    client = app.test_client()
    client.get("/readyz")

    def check_in(user_id: int, body: str) -> int:
        headers = {"Authorization": f"Bearer {tokens[user_id]}"}
        return client.post(
            PATH, data=body, headers=headers, content_type="application/json"
        ).status_code

    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    statuses = [check_in(*job) for job in jobs[:count]]
    profiler.disable()
    started = time.process_time()
    statuses += [check_in(*job) for job in jobs[count:]]
    plain_ms = (time.process_time() - started) * 1000 / max(1, len(jobs) - count)
    me = {"Authorization": f"Bearer {tokens[jobs[0][0]]}"}
    for _ in range(50):
        client.get("/api/v1/me", headers=me)
    started = time.process_time()
    for _ in range(500):
        client.get("/api/v1/me", headers=me)
    cycle_ms = (time.process_time() - started) * 1000 / 500
    own: dict[str, float] = defaultdict(float)
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in pstats.Stats(
        profiler
    ).stats.items():
        own[_package(filename)] += tottime
    total = sum(own.values())
    return {
        "checkins": len(jobs),
        "statuses": {s: statuses.count(s) for s in sorted(set(statuses))},
        "cpu_ms_per_checkin_unprofiled": round(plain_ms, 2),
        # the request cycle alone: token check, one read, the answer
        "cpu_ms_per_get_me": round(cycle_ms, 2),
        "share_by_package": {
            name: f"{seconds / total:.1%}"
            for name, seconds in sorted(own.items(), key=lambda item: -item[1])
            if seconds / total >= 0.005
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkins", type=int, default=300, help="profiled (and as many timed)")
    parser.add_argument("--seed", type=int, default=None, help="which users (default: random)")
    args = parser.parse_args()
    for key, value in run(world_url(), args.checkins, args.seed).items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
