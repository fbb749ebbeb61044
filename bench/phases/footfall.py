"""The busy venue's footfall as its owner, rollup against raw, and their SQL alone."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bench.harness import pgbench, sql, wrk
from bench.harness.database import quiesce
from bench.harness.seed.venues import TIMEZONE
from bench.harness.server import get
from bench.phases.reads import line
from bench.phases.run import Run

FOOTFALL = {"ff30": (30, None), "ff30_raw": (30, "UTC"), "ff365": (365, None)}
FOOTFALL["ff365_raw"] = (365, "UTC")
FOOTFALL_SQL = tuple(f"{name}_sql" for name in FOOTFALL)
SPANS = {"(a) 30 days by day": 30, "(b) 365 days by day": 365}


def today() -> date:
    """The busy venue's local date."""
    return datetime.now(ZoneInfo(TIMEZONE)).date()


def stats_path(venue_id: int, days: int, tz: str | None) -> str:
    """Stats of the last ``days`` local days (the venue's today included)."""
    last = today()
    query = f"from={(last - timedelta(days=days - 1)).isoformat()}&to={last.isoformat()}"
    return f"/api/v1/venues/{venue_id}/stats?{query}" + (f"&tz={tz}" if tz else "")


def prepare(run: Run, names: tuple[str, ...] = tuple(FOOTFALL)) -> None:
    """Write the footfall items and each reader's statements as pgbench scripts."""
    from service.database import db
    from service.footfall import from_raw, from_rollup
    from service.footfall.grid import make_range

    owner = run.tokens[run.facts["owner_id"]]
    for name in names:
        days, tz = FOOTFALL[name]
        row = (owner, stats_path(run.busy, days, tz))
        run.files[name] = wrk.write_items(run.tmp / f"{name}.txt", [row])
        reader = from_raw if tz else from_rollup
        span = make_range(today() - timedelta(days=days - 1), today(), tz or TIMEZONE, "day")
        sent = sql.capture(run.app, lambda r=reader, s=span: r.figures(db.session, run.busy, s))
        run.files[f"{name}_sql"] = run.tmp / f"{name}_sql.sql"
        text = "".join(s.replace("\n", " ") + ";\n" for entry in sent for s in entry.literal)
        run.files[f"{name}_sql"].write_text(text)


def rollup_equals_raw(run: Run) -> dict:
    """Check in process that the rollup's figures equal raw check-ins' (after a fold)."""
    from service.database import db
    from service.footfall import fold, from_raw, from_rollup
    from service.footfall.grid import make_range

    found = {}
    with run.app.app_context():
        fold.catch_up(db.session, venue_id=run.busy)
        for label, days in SPANS.items():
            span = make_range(today() - timedelta(days=days - 1), today(), TIMEZONE, "day")
            rolled = from_rollup.figures(db.session, run.busy, span)
            found[label] = rolled == from_raw.figures(db.session, run.busy, span)
            db.session.commit()
    return found


def sanity(run: Run, address: str) -> dict:
    """The owner's answers: 200, their source and total."""
    found = {}
    for name, (days, tz) in FOOTFALL.items():
        body = get(address, stats_path(run.busy, days, tz), run.tokens[run.facts["owner_id"]])
        found[name] = {"source": body["source"], "total_checkins": body["total_checkins"]}
    return found


def measure(run: Run, address: str) -> dict[str, list]:
    """The footfall phases at c=1 (HTTP, and each reader's SQL alone), round robin."""
    args, found = run.args, {}
    print(f"footfall: {args.rounds} rounds ...", flush=True)
    for round_no in range(1, args.rounds + 1):
        for name in (*FOOTFALL, *FOOTFALL_SQL):
            if name in FOOTFALL_SQL:
                seconds = args.footfall_sql_seconds
                result = pgbench.run(run.conninfo, run.files[name], 1, seconds, run.options, 1)
            else:
                wrk.run_get(address, run.files[name], 1, args.warmup)
                quiesce(run.conninfo)
                raw = name.endswith("_raw")
                seconds = args.footfall_raw_seconds if raw else args.footfall_seconds
                result = wrk.run_get(address, run.files[name], 1, seconds)
            result["quiesce_s"] = waited = quiesce(run.conninfo)
            if waited > 1:
                print(f"  (waited {waited:.1f} s for {name}'s abandoned queries)", flush=True)
            found.setdefault(name, []).append(result)
            print(f"  round {round_no} {name}: {line(result)}", flush=True)
    return found
