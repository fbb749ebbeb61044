"""Seed the one world ``scale.py`` measures, step by step, each step timed and skipped
while its options (and those of the steps before it) match what is already there.

Steps, in order (each reuses an existing bench seeder):

1. ``venues``: ``seeding.seed_venues`` — venues clustered like New York (COPY, CLUSTER in
   geohash order).
2. ``history``: ``checkin_seeding.seed_history`` — users, 50 mutual contacts each (the
   ring), a year of check-ins and the rewards state they imply — with the busy venue's
   year merged in before the history is sorted and derived from: ``footfall_seeding``'s
   regulars, occasional and one-time visitors and staff at the venue nearest Times
   Square (``busy_extra``). Then one of the users owns it (``venues.owner_id``), three
   are its staff, users get ``last_timezone``, and each gets a plan of recent check-ins
   (``scale_recent``).
3. ``events``: ``nearby_events.seed_events`` (the year centred on now; it re-seeds
   itself when that year has drifted).
4. ``rollup``: ``footfall_seeding.rebuild_rollup`` (``service.footfall.backfill``).
5. ``cluster``: venues clustered by place again (step 2 rewrote every venue: ``city``).
6. ``VACUUM ANALYZE`` and a checkpoint, when any step ran.

If the venues step's options differ from the seeded ones the database is dropped and
made again (everything refers to venues). The record is the table ``bench_scale_seed``
(step, options, timings, facts). The scale curve's venue-only databases are seeded by
``seed_curve``.
"""

import json
import time
from collections.abc import Callable

import checkin_seeding
import footfall_seeding as ff
import nearby_events
import numpy as np
import psycopg
import scale_recent
import seeding
from sqlalchemy.engine import make_url

MARK = "bench_scale_seed"
CURVE_USER = "bench_scale_user"
STAFF_ZONE = seeding.TIMEZONE


def world_options(args) -> dict[str, dict]:
    """What each step is seeded with."""
    return {
        "venues": {"venues": args.venues, "seed": 1},
        "history": {
            "users": args.users,
            "checkins": args.checkins,
            "busy_checkins": args.busy_checkins,
            "contacts": args.contacts,
            "recent_per_user": args.recent_per_user,
            "seed": args.seed,
        },
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


def recreate_database(url: str) -> None:
    """Drop the database (if there) and make it again with the schema."""
    name = make_url(url).database
    admin = seeding.libpq_conninfo(make_url(url).set(database="postgres").render_as_string(False))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    seeding.prepare_and_migrate(url)


def _timed(call: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    result = call()
    return result, round(time.perf_counter() - started, 2)


def seed_world(url: str, args, centres: list) -> dict:
    """Run every step that is not seeded as asked; returns each step's record (timings
    of this run, or of the run that seeded it, with ``seeded_now``) and the facts."""
    _, migrate_s = _timed(lambda: seeding.prepare_and_migrate(url))
    wanted = world_options(args)
    with psycopg.connect(seeding.libpq_conninfo(url), autocommit=True) as conn:
        done = marks(conn)
        venues = conn.execute("SELECT count(*) FROM venues").fetchone()[0]
    if done.get("venues", {}).get("options") != wanted["venues"] and venues:
        print("world: venues differ from the options: dropping the database", flush=True)
        _, migrate_s = _timed(lambda: recreate_database(url))
        done = {}
    report = {"create_migrate": {"seeded_now": True, "timings": {"total_s": migrate_s}}}
    ran: set[str] = set()
    with psycopg.connect(seeding.libpq_conninfo(url), autocommit=True) as conn:
        for step, options in wanted.items():
            stale = done.get(step, {}).get("options") != options
            # events: always asked (seed_events keeps them when count and year still fit)
            if step == "events" or stale or ran & set(DEPENDS[step]):
                print(f"world: {step} {options} ...", flush=True)
                timings = STEPS[step](conn, url, args, centres)
                if timings is not None:
                    ran.add(step)
                    facts = timings.pop("facts", {})
                    _record(conn, step, options, timings, facts)
                    report[step] = {"seeded_now": True, "timings": timings}
                    print(f"world: {step} seeded: {timings}", flush=True)
                    continue
            report[step] = {"seeded_now": False, **(marks(conn).get(step) or {})}
            print(f"world: {step} already seeded", flush=True)
        if ran:
            _, vacuum_s = _timed(lambda: _vacuum_all(conn))
            report["vacuum_analyze"] = {"seeded_now": True, "timings": {"total_s": vacuum_s}}
            print(f"world: VACUUM ANALYZE + CHECKPOINT {vacuum_s} s", flush=True)
        report["facts"] = marks(conn)["history"]["facts"]
    return report


def _vacuum_all(conn: psycopg.Connection) -> None:
    conn.execute("SET maintenance_work_mem = '1GB'")
    conn.execute("VACUUM ANALYZE")
    conn.execute("CHECKPOINT")


def _seed_venues(conn, url, args, centres) -> dict | None:
    return seeding.seed_venues(conn, args.venues, centres)


def _seed_history(conn, url, args, centres) -> dict:
    """Users, contacts, the history with the busy venue's year, the rewards state; then
    the owner and staff of the busy venue and the recent check-ins' plan."""
    found: dict = {}
    conn.execute(f"DROP TABLE IF EXISTS {checkin_seeding.MARK}")  # decided: seed it again
    seeded = checkin_seeding.seed_history(
        conn,
        venues=args.venues,
        users=args.users,
        history=args.checkins - args.busy_checkins,
        contacts=args.contacts,
        seed=args.seed,
        extra=busy_extra(args.busy_checkins, args.seed, found),
    )
    started = time.perf_counter()
    _busy_roles(conn, found)
    found["history_max_id"] = conn.execute("SELECT max(id) FROM checkins").fetchone()[0]
    owners_s = round(time.perf_counter() - started, 2)
    plan = scale_recent.make_plan(conn, args.recent_per_user, found["busy_venue_id"])
    timings = {**seeded["timings"], "busy_owner_staff_s": owners_s, "recent_plan": plan}
    return {**timings, "facts": found}


def _seed_events(conn, url, args, centres) -> dict | None:
    now = nearby_events.datetime.now(nearby_events.UTC)
    return nearby_events.seed_events(conn, args.events, args.organisers, now)


def _cluster(conn, url, args, centres) -> dict:
    """Venues back in spatial order: the history step rewrote every row (``city``), which
    moved them to the end of the heap in id order, as unclustered as a random table."""
    started = time.perf_counter()
    conn.execute("SET maintenance_work_mem = '1GB'")
    seeding.cluster_by_place(conn)
    return {"total_s": round(time.perf_counter() - started, 2)}


def _seed_rollup(conn, url, args, centres) -> dict:
    rows, seconds = _timed(lambda: ff.rebuild_rollup(url))
    return {"total_s": seconds, "rollup_rows": rows}


DEPENDS = {
    "venues": (),
    "history": ("venues",),
    "events": ("history",),
    "rollup": ("history",),
    "cluster": ("venues", "history"),
}
STEPS = {
    "venues": _seed_venues,
    "history": _seed_history,
    "events": _seed_events,
    "rollup": _seed_rollup,
    "cluster": _cluster,
}


def busy_extra(busy: int, seed: int, found: dict) -> tuple[dict, Callable]:
    """``seed_history``'s ``extra``: ``busy`` check-ins over the year at the venue nearest
    Times Square, made by ``footfall_seeding`` (regulars 55 %, occasional and one-time
    visitors, 3 staff, too_soon repeats, imprecise / too_far flags, private); ``found``
    receives the venue, owner and staff ids and the mix."""

    def make(user_ids, venue_ids, lat, lon) -> dict:
        lat0, lon0 = seeding.TIMES_SQUARE
        index = int(np.argmin((lat - lat0) ** 2 + ((lon - lon0) * 0.76) ** 2))
        rng = np.random.default_rng(seed)
        now = int(time.time())
        options = {"busy": busy, "users": len(user_ids), "venues": 2, "background": 0}
        plan = ff._plan(rng, options, now, STAFF_ZONE)
        rows = ff._finish(rng, plan, np.array([[lat[index], lon[index]]]), now)
        roles = plan["roles"]
        found.update(
            busy_venue_id=int(venue_ids[index]),
            owner_id=int(user_ids[roles["owner"]]),
            staff_ids=[int(user_ids[i]) for i in roles["staff"]],
            regulars=len(roles["regulars"]),
            occasional_visitors=len(roles["occasional"]),
            one_time_visitors=len(roles["once"]),
            busy_checkins=len(rows["at"]),
            busy_ineligible=int((~rows["eligible"]).sum()),
        )
        return {
            "user": rows["user"].astype(np.int64),
            "venue": np.full(len(rows["at"]), index, dtype=np.int64),
            "at": rows["at"].astype(np.int64),
            "eligible": rows["eligible"],
            "accuracy": rows["accuracy"],
            "private": rows["private"],
            "reasons": rows["reasons"],
            "locations": rows["locations"],
        }

    return {"busy_checkins": busy, "busy_seed": seed}, make


def _busy_roles(conn: psycopg.Connection, found: dict) -> None:
    """The owner and staff of the busy venue (its radius is the footfall seed's), and
    every user's ``last_timezone`` as their latest check-in would have set it."""
    busy = found["busy_venue_id"]
    with conn.transaction():
        conn.execute(
            "UPDATE venues SET owner_id = %s, radius_m = %s WHERE id = %s",
            (found["owner_id"], ff.RADIUS_M, busy),
        )
        for user_id in found["staff_ids"]:
            conn.execute(
                "INSERT INTO venue_staff (venue_id, user_id) VALUES (%s, %s)", (busy, user_id)
            )
        conn.execute(
            "UPDATE users SET last_timezone = %s WHERE checkin_count > 0", (seeding.TIMEZONE,)
        )


# --- the scale curve's databases: venues and one user ---------------------------------


def curve_url(url: str, suffix: str) -> str:
    """The URL of ``url``'s database with ``_suffix`` appended to its name."""
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{suffix}").render_as_string(False)


def seed_curve(url: str, venues: int, centres: list) -> dict:
    """A database with ``venues`` bench venues and one user, seeded once: its user id,
    venue count and the seed's record (``seeded_now`` says whether it was this run)."""
    _, migrate_s = _timed(lambda: seeding.prepare_and_migrate(url))
    options = {"venues": venues, "seed": 1}
    with psycopg.connect(seeding.libpq_conninfo(url), autocommit=True) as conn:
        done = marks(conn).get("venues")
        seeded = None
        if done is None or done["options"] != options:
            seeded = seeding.seed_venues(conn, venues, centres)
            if seeded is not None:
                _, seeded["vacuum_analyze_s"] = _timed(lambda: _vacuum_all(conn))
            _record(conn, "venues", options, seeded or {}, {})
        conn.execute(
            "INSERT INTO users (handle, email, display_name, password_hash)"
            " VALUES (%s, %s, 'Scale bench', '!') ON CONFLICT DO NOTHING",
            (CURVE_USER, f"{CURVE_USER}@bench.invalid"),
        )
        user_id = conn.execute("SELECT id FROM users WHERE handle = %s", (CURVE_USER,)).fetchone()[
            0
        ]
        count = conn.execute("SELECT count(*) FROM venues").fetchone()[0]
        record = marks(conn)["venues"]
    return {
        "user_id": user_id,
        "venues": count,
        "migrate_s": migrate_s,
        "seeded_now": seeded is not None,
        "timings": record["timings"],
    }
