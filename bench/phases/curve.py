"""The scale curve: nearby venues on databases of ``--curve`` venues and the world."""

from bench.harness import pgbench, wrk
from bench.harness.database import conninfo, suffixed
from bench.harness.seed.world import seed_curve
from bench.harness.server import mint_tokens, running_api
from bench.phases import reads
from bench.phases.run import RESULTS, Run


def label(venues: int) -> str:
    """100000 -> 100k, 10000000 -> 10m."""
    for unit, size in (("m", 1_000_000), ("k", 1_000)):
        if venues >= size and venues % size == 0:
            return f"{venues // size}{unit}"
    return str(venues)


def venues_of(name: str) -> float:
    """A curve label's venues: 100k -> 100000."""
    number, unit = name[:-1], name[-1]
    return float(number) * {"k": 1e3, "m": 1e6}[unit] if unit in "km" else float(name)


def seed(url: str, args, centres: list) -> dict:
    """The curve's databases (``<world>_100k``, ...), each seeded once: their records."""
    found = {}
    for venues in sorted(int(v) for v in args.curve.split(",")):
        name = label(venues)
        print(f"curve database {name}: {venues:,} venues (seeded once) ...", flush=True)
        found[name] = seed_curve(suffixed(url, name), venues, centres)
        print(f"  {found[name]}", flush=True)
    return found


def measure(run: Run, curve: dict) -> dict[str, list]:
    """Nearby venues at c=1 on each database, endpoint and statement, ``--rounds`` times."""
    args = run.args
    print(f"scale curve: {args.rounds} rounds ...", flush=True)
    points = [(name, suffixed(run.url, name), record["user_id"]) for name, record in curve.items()]
    points.append((label(args.venues), run.url, run.viewers[0]))
    points.sort(key=lambda point: venues_of(point[0]))
    found: dict[str, list] = {}
    for round_no in range(1, args.rounds + 1):
        for name, db_url, user_id in points:
            token = mint_tokens(run.app, [user_id])[user_id]
            rows = [(token, reads.path("venues", lat, lon, args)) for lat, lon in run.points]
            items = wrk.write_items(run.tmp / f"curve_{name}.txt", rows)
            log = RESULTS / f"scale.curve_{name}.gunicorn.log"
            with running_api(
                db_url, workers=args.workers, log=log, jwt_secret=run.secret
            ) as address:
                wrk.run_get(address, items, 2 * args.workers, args.warmup + 3)
                result = wrk.run_get(address, items, 1, args.seconds)
            found.setdefault(f"curve_{name}", []).append(result)
            script = (conninfo(db_url), run.files["venues_sql"], 1, args.seconds, run.options)
            statement = pgbench.run(*script, args.warmup)
            found.setdefault(f"curve_sql_{name}", []).append(statement)
            print(f"  round {round_no} {name}: {reads.line(result)}; SQL {reads.line(statement)}")
    return found
