"""The one world ``scale.py`` measures, seeded step by step and reused (README)."""

import json
import time
from collections.abc import Callable

import psycopg

from bench.harness import database
from bench.harness.seed import busy, events, history, recent
from bench.harness.seed.venues import TIMEZONE, seed_venues

MARK = "bench_scale_seed"
CURVE_USER = "bench_scale_user"


def world_options(args) -> dict[str, dict]:
    """What each step is seeded with."""
    history = ("users", "checkins", "busy_checkins", "contacts", "recent_per_user", "seed")
    return {
        "venues": {"venues": args.venues, "seed": 1},
        "history": {key: getattr(args, key) for key in history},
        "events": {"events": args.events, "organisers": args.organisers},
        "rollup": {},
        "cluster": {},
    }


def marks(conn: psycopg.Connection) -> dict[str, dict]:
    """The steps already seeded: ``{step: {options, timings, facts}}``."""
    if not conn.execute("SELECT to_regclass(%s)", (MARK,)).fetchone()[0]:
        return {}
    rows = conn.execute(f"SELECT step, options, timings, facts FROM {MARK}").fetchall()
    return {row[0]: {"options": row[1], "timings": row[2], "facts": row[3]} for row in rows}


def _record(conn: psycopg.Connection, step: str, options: dict, timings: dict, facts: dict):
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {MARK} (step text PRIMARY KEY, options json NOT NULL,"
        " timings json NOT NULL, facts json NOT NULL, seeded_at timestamptz DEFAULT now())"
    )
    conn.execute(
        f"INSERT INTO {MARK} (step, options, timings, facts) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (step) DO UPDATE SET options = excluded.options,"
        " timings = excluded.timings, facts = excluded.facts, seeded_at = now()",
        (step, json.dumps(options), json.dumps(timings), json.dumps(facts)),
    )


def _timed(call: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    result = call()
    return result, round(time.perf_counter() - started, 2)


def seed_world(url: str, args, centres: list) -> dict:
    """Seed every step of the world not seeded as asked; their records, the facts."""
    return seed_steps(url, world_options(args), args, centres, "world")


def seed_steps(url: str, wanted: dict[str, dict], args, centres: list, name: str) -> dict:
    """Seed every step of ``wanted`` not seeded with its options (or after a step it
    depends on); each step's record, and the history's facts if any."""
    _, migrate_s = _timed(lambda: database.prepare_and_migrate(url))
    with psycopg.connect(database.conninfo(url), autocommit=True) as conn:
        done = marks(conn)
        venues = conn.execute("SELECT count(*) FROM venues").fetchone()[0]
    if done.get("venues", {}).get("options") != wanted["venues"] and venues:
        print(f"{name}: venues differ from the options: dropping the database", flush=True)
        _, migrate_s = _timed(lambda: database.recreate(url))
        done = {}
    report = {"create_migrate": {"seeded_now": True, "timings": {"total_s": migrate_s}}}
    ran: set[str] = set()
    with psycopg.connect(database.conninfo(url), autocommit=True) as conn:
        for step, options in wanted.items():
            depends, seed = STEPS[step]
            stale = done.get(step, {}).get("options") != options
            # events: always asked (seed_events keeps them when count and year still fit)
            if step == "events" or stale or ran & set(depends):
                print(f"{name}: {step} {options} ...", flush=True)
                timings = seed(conn, url, args, centres, options)
                if timings is not None:
                    ran.add(step)
                    _record(conn, step, options, timings, timings.pop("facts", {}))
                    report[step] = {"seeded_now": True, "timings": timings}
                    print(f"{name}: {step} seeded: {timings}", flush=True)
                    continue
            report[step] = {"seeded_now": False, **(marks(conn).get(step) or {})}
            print(f"{name}: {step} already seeded", flush=True)
        if ran:
            _, vacuum_s = _timed(lambda: database.vacuum_all(conn))
            report["vacuum_analyze"] = {"seeded_now": True, "timings": {"total_s": vacuum_s}}
            print(f"{name}: VACUUM ANALYZE + CHECKPOINT {vacuum_s} s", flush=True)
        report["facts"] = marks(conn).get("history", {}).get("facts")
    return report


def _seed_history(conn, url, args, centres, options) -> dict:
    """Seed the history; then the busy venue's owner and staff, the recent plan."""
    found: dict = {}
    conn.execute("DROP TABLE IF EXISTS bench_checkins_seed")  # an earlier layout's record
    timings = history.seed_history(
        conn,
        venues=args.venues,
        users=args.users,
        history=args.checkins - args.busy_checkins,
        contacts=args.contacts,
        seed=args.seed,
        extra=busy.busy_extra(args.busy_checkins, args.seed, found),
    )
    _, owners_s = _timed(lambda: _busy_roles(conn, found))
    found["history_max_id"] = conn.execute("SELECT max(id) FROM checkins").fetchone()[0]
    plan = recent.make_plan(conn, args.recent_per_user, found["busy_venue_id"])
    return {**timings, "busy_owner_staff_s": owners_s, "recent_plan": plan, "facts": found}


def _cluster(conn, url, args, centres, options) -> dict:
    """Put venues back in spatial order (the history rewrote every row)."""
    conn.execute("SET maintenance_work_mem = '1GB'")
    return {"total_s": _timed(lambda: database.cluster_by_place(conn))[1]}


def _venues(conn, url, args, centres, options) -> dict | None:
    return seed_venues(conn, options["venues"], centres)


def _events(conn, url, args, centres, options) -> dict | None:
    return events.seed_events(conn, args.events, args.organisers)


def _rollup(conn, url, args, centres, options) -> dict:
    rows, seconds = _timed(lambda: busy.rebuild_rollup(url))
    return {"total_s": seconds, "rollup_rows": rows}


STEPS = {  # step: (the steps it depends on, how it is seeded)
    "venues": ((), _venues),
    "history": (("venues",), _seed_history),
    "events": (("history",), _events),
    "rollup": (("history",), _rollup),
    "cluster": (("venues", "history"), _cluster),
}


def _busy_roles(conn: psycopg.Connection, found: dict) -> None:
    """Make the busy venue's owner and staff, and every user's ``last_timezone``."""
    venue = found["busy_venue_id"]
    with conn.transaction():
        conn.execute(
            "UPDATE venues SET owner_id = %s, radius_m = %s WHERE id = %s",
            (found["owner_id"], busy.RADIUS_M, venue),
        )
        for user_id in found["staff_ids"]:
            conn.execute(
                "INSERT INTO venue_staff (venue_id, user_id) VALUES (%s, %s)", (venue, user_id)
            )
        conn.execute("UPDATE users SET last_timezone = %s WHERE checkin_count > 0", (TIMEZONE,))


def state(conn: psycopg.Connection, busy: int) -> dict:
    """Count the world's rows as measured (and the busy venue's check-ins, recent ones)."""
    tables = ("venues", "users", "checkins", "events", "venue_visits", "user_badges")
    tables += ("venue_mayors", "checkins WHERE venue_id = %(busy)s", recent.IDS)
    keys = (*tables[:-2], "busy_venue_checkins", "recent_checkins", "database_bytes")
    counts = ", ".join(f"(SELECT count(*) FROM {table})" for table in tables)
    query = f"SELECT {counts}, pg_database_size(current_database())"
    row = conn.execute(query, {"busy": busy}).fetchone()
    return dict(zip(keys, row, strict=True))


def seed_curve(url: str, venues: int, centres: list) -> dict:
    """Seed a database of ``venues`` bench venues and one user, once; its record."""
    seeded = seed_steps(url, {"venues": {"venues": venues, "seed": 1}}, None, centres, "curve")
    with psycopg.connect(database.conninfo(url), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (handle, email, display_name, password_hash)"
            " VALUES (%s, %s, 'Scale bench', '!') ON CONFLICT DO NOTHING",
            (CURVE_USER, f"{CURVE_USER}@bench.invalid"),
        )
        row = conn.execute("SELECT id FROM users WHERE handle = %s", (CURVE_USER,)).fetchone()
    return {"user_id": row[0], **seeded["venues"]}
