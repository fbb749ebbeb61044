"""Benchmark nearby contacts against nearby venues, and price meeting detection per check-in.

At 100,000 users with 50 mutual contacts each, every user with recent check-ins at
venues near where they live (on the million clustered venues of ``nearby_venues.py``):

- ``GET /api/v1/nearby/contacts`` (radius 1000 m, and 5000 m) against
  ``GET /api/v1/venues/nearby`` (radius 1000 m, limit 20) in the same run, on the same
  fixed-seed query positions near venue clusters, each request as a random bench user —
  goal: nearby contacts at most 2x the nearby-venues median;
- ``POST /api/v1/checkins``, each user checking in once, in three variants on the same
  kind of users (location sharing on): *public* at a venue where one of their contacts
  checked in recently (takes the pair locks of all 50 contacts, runs meeting detection,
  and records the meeting it finds), *public, nobody near* at a venue next to home where
  no contact is expected (locks and detection, no meeting), and *private* at a contact's
  venue like the first (skips locks and detection). Differences of medians: detection
  alone (nobody near - private), a meeting found (public - nobody near), both (public -
  private). Meetings found are counted.

Each phase runs at concurrency 1 (median / p95 / p99) and at ``--concurrency``
(throughput) from separate load-generator processes after a warm-up, split into
``--rounds`` rounds run round-robin with the phases it is compared with (so load from
elsewhere on a shared machine hits them alike). The service's own
nearby-contacts and meeting-candidate statements are also timed alone with
``EXPLAIN ANALYZE`` on samples. The database (``BENCH_DATABASE_URL``, default
``.../irl_bench``) is created, migrated and seeded with COPY on first run (idempotent);
the bench users' check-ins are re-made relative to now on every run. Results go to
stdout and ``bench/results/nearby_contacts.json``.

Rerun: ``make bench`` or ``.venv/bin/python bench/nearby_contacts.py --help``.
"""

import argparse
import json
import os
import platform
import random
import secrets
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import apiserver
import psycopg
import seeding
import service_sql
import social_seeding
from loadgen import Target, print_table, ratio, run_rounds

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/irl_bench"
RESULTS = Path(__file__).resolve().parent / "results"
READS = ("venues", "contacts", "contacts_wide")
WRITES = ("checkin_public", "checkin_alone", "checkin_private")
PHASES = ("c1", "cN")
SANITY_POINTS = 50
# How long ago a contact's check-in may be for a check-in next to it to meet them: the
# meeting window is 2 h; 100 min leaves the run 20 min to get there.
FRIEND_RECENT = "100 minutes"

# For each chosen user (location sharing on, like the public variants need): a random
# contact (sharing on) whose latest visible eligible check-in is recent, and its venue
# ("friend"); and the venue nearest home they have no check-in at ("alone": contacts live
# all over the city, so there is rarely one within 75 m).
JOBS_SQL = f"""
WITH chosen AS (
    SELECT b.user_id, b.home_venue_id,
           row_number() OVER (ORDER BY md5(b.user_id::text || %(salt)s)) AS n
    FROM bench_social_users b JOIN users u ON u.id = b.user_id
    WHERE u.location_sharing <> 'off'
    ORDER BY md5(b.user_id::text || %(salt)s)
    LIMIT %(count)s
)
SELECT c.n, c.user_id,
       friend.id, ST_Y(friend.location::geometry), ST_X(friend.location::geometry),
       alone.id, ST_Y(alone.location::geometry), ST_X(alone.location::geometry)
FROM chosen c
CROSS JOIN LATERAL (
    SELECT latest.venue_id
    FROM relationships r
    JOIN users o ON o.id = r.other_id AND o.location_sharing <> 'off'
    CROSS JOIN LATERAL (
        SELECT k.venue_id, k.effective_at FROM checkins k
        WHERE k.user_id = r.other_id AND NOT k.private AND k.eligible
        ORDER BY k.effective_at DESC LIMIT 1
    ) latest
    WHERE r.user_id = c.user_id AND r.mutual
      AND latest.effective_at > now() - interval '{FRIEND_RECENT}'
    ORDER BY md5(r.other_id::text || %(salt)s)
    LIMIT 1
) pick
JOIN venues friend ON friend.id = pick.venue_id
CROSS JOIN LATERAL (
    SELECT v.id, v.location FROM venues v
    WHERE v.deleted_at IS NULL
      AND NOT EXISTS (SELECT FROM checkins k WHERE k.user_id = c.user_id AND k.venue_id = v.id)
    ORDER BY v.location <-> (SELECT h.location FROM venues h WHERE h.id = c.home_venue_id)
    LIMIT 1
) alone
ORDER BY c.n
"""


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--venues", type=int, default=1_000_000, help="venues to seed (default 1,000,000)")
    add("--users", type=int, default=100_000, help="bench users (default 100,000)")
    add("--contacts", type=int, default=50, help="mutual contacts per user (even)")
    add("--checkins-per-user", type=int, default=3, help="recent check-ins per user")
    add("--seconds", type=float, default=10, help="measured seconds per phase (all rounds)")
    add("--warmup", type=float, default=1, help="warm-up seconds per phase and round")
    add("--rounds", type=int, default=3, help="interleaved rounds each phase is split into")
    add("--concurrency", type=int, default=4, help="clients in the throughput phase")
    add("--points", type=int, default=2000, help="distinct query positions (and viewers)")
    add("--radius", type=float, default=1000, help="radius_m of both nearby queries")
    add("--wide-radius", type=float, default=5000, help="radius_m of the second contacts row")
    add("--limit", type=int, default=20, help="limit of each nearby query")
    add("--checkin-jobs", type=int, default=2500, help="check-ins available to each phase")
    add("--explain-samples", type=int, default=200, help="EXPLAIN ANALYZE samples per query")
    add("--workers", type=int, default=2, help="gunicorn workers")
    add("--threads", type=int, default=4, help="gunicorn threads per worker")
    add("--output", type=Path, default=RESULTS / "nearby_contacts.json")
    return parser.parse_args()


def checkin_jobs(conn: psycopg.Connection, per_share: int) -> dict[tuple[str, str], list]:
    """For each (variant, phase), ``per_share`` distinct users, each with the venue the
    variant checks in at: ``(user_id, venue_id, lat, lon, private)``. The users are dealt
    round-robin from one shuffled pick, so every share has the same mix and no user
    checks in twice (which could be too fast or too soon, and so not eligible)."""
    keys = [(name, key) for key in PHASES for name in WRITES]
    rows = conn.execute(JOBS_SQL, {"salt": "checkin-jobs", "count": per_share * len(keys)})
    rows = rows.fetchall()
    shares = {}
    for index, (name, key) in enumerate(keys):
        chosen = rows[index :: len(keys)]
        if name == "checkin_alone":
            shares[(name, key)] = [(r[1], r[5], r[6], r[7], False) for r in chosen]
        else:
            private = name == "checkin_private"
            shares[(name, key)] = [(r[1], r[2], r[3], r[4], private) for r in chosen]
    return shares


def checkin_items(jobs: list, tokens: dict[int, str]) -> list:
    """``(token, body)`` work items: each user checks in at the job's venue, on the spot."""
    return [
        (
            tokens[user_id],
            {"venue_id": venue_id, "location": {"lat": lat, "lon": lon}, "private": private},
        )
        for user_id, venue_id, lat, lon, private in jobs
    ]


def sanity_check(address: str, items: list, radius_m: float, limit: int) -> dict:
    """Both nearby endpoints answer 200 for the first points; how much they return."""
    found = {"venues": 0, "contacts": 0}
    sharing: dict[str, int] = {}
    paths = {"venues": "/api/v1/venues/nearby", "contacts": "/api/v1/nearby/contacts"}
    for lat, lon, token in items[:SANITY_POINTS]:
        for name, path in paths.items():
            query = f"{path}?lat={lat:.6f}&lon={lon:.6f}&radius_m={radius_m}&limit={limit}"
            status, body = apiserver.request(address, "GET", query, token=token)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}: {body}")
            found[name] += len(body["items"])
            if name == "contacts":
                for item in body["items"]:
                    sharing[item["sharing"]] = sharing.get(item["sharing"], 0) + 1
    checked = min(SANITY_POINTS, len(items))
    return {
        "points": checked,
        "mean_venues": round(found["venues"] / checked, 2),
        "mean_contacts": round(found["contacts"] / checked, 2),
        "contacts_by_sharing": sharing,
    }


def explain_queries(url: str, items: list, jobs: list, args) -> dict:
    """The service's two statements alone: EXPLAIN ANALYZE timings and one text plan each."""
    now = datetime.now(UTC)
    count = args.explain_samples
    nearby = [
        service_sql.nearby_contacts_sql(viewer, lat, lon, args.radius, now)
        for lat, lon, viewer in items[:count]
    ]
    candidates = service_sql.meeting_statements(url, jobs[:count])
    with psycopg.connect(seeding.libpq_conninfo(url), autocommit=True) as conn:
        report = {
            "nearby_contacts": service_sql.explain_many(conn, nearby),
            "meeting_candidates": service_sql.explain_many(conn, candidates),
        }
        if nearby and candidates:
            report["nearby_contacts_plan"] = service_sql.explain_text(conn, *nearby[0])
            report["meeting_candidates_plan"] = service_sql.explain_text(conn, *candidates[0])
    return report


def database_facts(conn: psycopg.Connection) -> dict:
    """Versions, settings and row counts the results depend on."""
    versions = conn.execute("SELECT version(), postgis_lib_version()").fetchone()
    settings = dict(
        conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN"
            " ('jit', 'shared_buffers', 'work_mem', 'effective_cache_size')"
        ).fetchall()
    )
    counts = conn.execute(
        "SELECT (SELECT count(*) FROM venues), (SELECT count(*) FROM users),"
        " (SELECT count(*) FROM relationships WHERE mutual),"
        " (SELECT count(*) FROM checkins),"
        " (SELECT count(*) FROM checkins WHERE NOT private"
        "  AND effective_at > now() - interval '3 hours')"
    ).fetchone()
    return {
        "postgres": versions[0],
        "postgis": versions[1],
        "settings": settings,
        "venues": counts[0],
        "users": counts[1],
        "mutual_relationship_rows": counts[2],
        "checkins": counts[3],
        "recent_visible_checkins": counts[4],
    }


def checkpoints(conninfo: str) -> int:
    """Checkpoints so far (a checkpoint during a phase slows its writes)."""
    with psycopg.connect(conninfo) as conn:
        return conn.execute(
            "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"
        ).fetchone()[0]


def meetings_since(conn: psycopg.Connection, since: datetime) -> dict:
    """Check-ins stored and meetings recorded by bench users since ``since``."""
    checkins = conn.execute(
        "SELECT count(*) FILTER (WHERE NOT private), count(*) FILTER (WHERE private),"
        " count(*) FILTER (WHERE NOT eligible) FROM checkins"
        f" WHERE created_at >= %s AND user_id IN ({social_seeding.BENCH_USERS})",
        (since,),
    ).fetchone()
    meetings = conn.execute(
        "SELECT count(*) / 2, count(*) FILTER (WHERE first_time) / 2 FROM meetings"
        f" WHERE created_at >= %s AND user_id IN ({social_seeding.BENCH_USERS})",
        (since,),
    ).fetchone()
    return {
        "public_checkins": checkins[0],
        "private_checkins": checkins[1],
        "ineligible_checkins": checkins[2],
        "meetings": meetings[0],
        "first_meetings": meetings[1],
    }


def source_state() -> dict:
    """The commit measured, and whether the service code differed from it."""

    def git(*command: str) -> str:
        run = subprocess.run(["git", *command], cwd=seeding.ROOT, capture_output=True, text=True)
        return run.stdout.strip()

    changed = git("status", "--porcelain", "--", "service", "geo", "migrations", "wsgi.py")
    return {"commit": git("rev-parse", "HEAD"), "uncommitted_service_changes": bool(changed)}


def main() -> None:
    """Prepare, seed, serve, measure, report."""
    args = parse_args()
    started = time.perf_counter()
    load_before = os.getloadavg()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    conninfo = seeding.libpq_conninfo(url)
    seeding.prepare_and_migrate(url)
    centres, origin = seeding.load_centres()
    print(f"cluster centres: {len(centres):,} ({origin})", flush=True)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        print(f"seeding {args.venues:,} venues (skipped if present) ...", flush=True)
        venue_seed = seeding.seed_venues(conn, args.venues, centres)
        print(f"venues: {venue_seed or 'already seeded'}", flush=True)
        print(
            f"seeding {args.users:,} users x {args.contacts} contacts (skipped if present) ...",
            flush=True,
        )
        social_seed = social_seeding.seed_social(
            conn, args.users, args.contacts, args.checkins_per_user
        )
        if social_seed is None:
            social_seed = {"skipped": True, "previous": social_seeding.previous_seed(conn)}
        print(f"users and contacts: {social_seed}", flush=True)
        print("re-making the bench users' recent check-ins ...", flush=True)
        refresh = social_seeding.refresh_checkins(conn)
        print(f"check-ins: {refresh}", flush=True)
        user_ids = [row[0] for row in conn.execute("SELECT user_id FROM bench_social_users")]
        jobs = checkin_jobs(conn, args.checkin_jobs)
        facts = database_facts(conn)
    print(f"database: {json.dumps({k: v for k, v in facts.items() if k != 'postgres'})}")

    rng = random.Random(11)
    points = seeding.query_points(centres, args.points)
    viewers = [rng.choice(user_ids) for _ in points]
    print("EXPLAIN ANALYZE of the service's statements ...", flush=True)
    explained = explain_queries(
        url,
        [(lat, lon, v) for (lat, lon), v in zip(points, viewers, strict=True)],
        jobs[("checkin_public", "c1")],
        args,
    )
    for name in ("nearby_contacts", "meeting_candidates"):
        print(f"  {name}: {explained[name]}", flush=True)

    secret = secrets.token_urlsafe(48)
    needed = set(viewers) | {job[0] for share in jobs.values() for job in share}
    tokens = apiserver.mint_tokens(url, secret, sorted(needed))
    items = [(lat, lon, tokens[v]) for (lat, lon), v in zip(points, viewers, strict=True)]
    shares = {share: checkin_items(share_jobs, tokens) for share, share_jobs in jobs.items()}

    RESULTS.mkdir(exist_ok=True)
    results: dict[str, dict] = {}
    checkpoints_before = checkpoints(conninfo)
    writes_started = None
    with apiserver.running_api(
        url,
        workers=args.workers,
        threads=args.threads,
        log=RESULTS / "nearby_contacts.gunicorn.log",
        jwt_secret=secret,
    ) as address:
        sanity = sanity_check(address, items, args.radius, args.limit)
        print(f"sanity: {sanity}", flush=True)
        common = {"address": address, "limit": args.limit}
        targets = {
            "venues": Target("venues", radius_m=args.radius, **common),
            "contacts": Target(
                "contacts", path="/api/v1/nearby/contacts", radius_m=args.radius, **common
            ),
            "contacts_wide": Target(
                "contacts_wide", path="/api/v1/nearby/contacts", radius_m=args.wide_radius, **common
            ),
        }
        for name in WRITES:
            targets[name] = Target(name, address, path="/api/v1/checkins", method="POST", once=True)
        for group, names in (("reads", READS), ("check-ins", WRITES)):
            if group == "check-ins":
                writes_started = datetime.now(UTC)
            for key, concurrency in zip(PHASES, (1, args.concurrency), strict=True):
                print(
                    f"measuring {group} at concurrency {concurrency}"
                    f" ({args.rounds} rounds of {', '.join(names)}) ...",
                    flush=True,
                )
                phases = {
                    name: (targets[name], shares[(name, key)] if name in WRITES else items)
                    for name in names
                }
                measured = run_rounds(phases, concurrency, args.warmup, args.seconds, args.rounds)
                for name, phase in measured.items():
                    results.setdefault(name, {})[key] = phase
    with psycopg.connect(conninfo, autocommit=True) as conn:
        written = meetings_since(conn, writes_started)
    facts["checkpoints_during_phases"] = checkpoints(conninfo) - checkpoints_before

    def median(name: str, key: str = "c1") -> float | None:
        return results[name][key].get("median_ms")

    def cost(minuend: str, subtrahend: str, key: str) -> float | None:
        high, low = median(minuend, key), median(subtrahend, key)
        return round(high - low, 2) if high and low else None

    ratios = {
        "contacts_over_venues_median_c1": ratio(median("contacts"), median("venues")),
        "contacts_wide_over_venues_median_c1": ratio(median("contacts_wide"), median("venues")),
        "venues_over_contacts_throughput_cN": ratio(
            results["venues"]["cN"]["throughput_rps"], results["contacts"]["cN"]["throughput_rps"]
        ),
        "venues_over_contacts_wide_throughput_cN": ratio(
            results["venues"]["cN"]["throughput_rps"],
            results["contacts_wide"]["cN"]["throughput_rps"],
        ),
        "public_over_private_median_c1": ratio(median("checkin_public"), median("checkin_private")),
        "private_over_public_throughput_cN": ratio(
            results["checkin_private"]["cN"]["throughput_rps"],
            results["checkin_public"]["cN"]["throughput_rps"],
        ),
    }
    costs = {
        f"{what}_ms_{key}": cost(minuend, subtrahend, key)
        for what, minuend, subtrahend in (
            ("detection", "checkin_alone", "checkin_private"),
            ("meeting", "checkin_public", "checkin_alone"),
            ("detection_and_meeting", "checkin_public", "checkin_private"),
        )
        for key in PHASES
    }
    meetings_measured = {
        name: sum(results[name][key]["results_total"] for key in PHASES)
        for name in ("checkin_public", "checkin_alone")
    }
    total_s = round(time.perf_counter() - started, 1)

    labels = {
        "venues": f"nearby venues, r={args.radius:g} m",
        "contacts": f"nearby contacts, r={args.radius:g} m",
        "contacts_wide": f"nearby contacts, r={args.wide_radius:g} m",
        "checkin_public": "check-in, public, meets",
        "checkin_alone": "check-in, public, nobody near",
        "checkin_private": "check-in, private",
    }
    candidates = explained["meeting_candidates"].get("execution_ms", {})
    nearby = explained["nearby_contacts"].get("execution_ms", {})
    print(
        f"\nnearby contacts: {facts['users']:,} users ({args.users:,} bench) x {args.contacts}"
        f" contacts, {facts['checkins']:,} check-ins ({facts['recent_visible_checkins']:,}"
        f" recent and visible), {facts['venues']:,} venues; {args.points} points,"
        f" {args.seconds:g} s per phase in {args.rounds} rounds, gunicorn {args.workers}"
        f" workers x {args.threads} threads, {os.cpu_count()} CPUs, load average"
        f" {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after\n"
    )
    print_table(results, labels, args.concurrency)
    print(
        f"\nnearby contacts / nearby venues, median at c=1: "
        f"{ratios['contacts_over_venues_median_c1']}x (r={args.radius:g} m),"
        f" {ratios['contacts_wide_over_venues_median_c1']}x (r={args.wide_radius:g} m)"
        f"  [goal <= 2x]"
        f"\nnearby venues / nearby contacts, throughput at c={args.concurrency}: "
        f"{ratios['venues_over_contacts_throughput_cN']}x (r={args.radius:g} m),"
        f" {ratios['venues_over_contacts_wide_throughput_cN']}x (r={args.wide_radius:g} m)"
        f"\ncheck-in cost, difference of medians at c=1 (c={args.concurrency}):"
        f" detection {costs['detection_ms_c1']} ms ({costs['detection_ms_cN']}),"
        f" a meeting found {costs['meeting_ms_c1']} ms ({costs['meeting_ms_cN']}),"
        f" both {costs['detection_and_meeting_ms_c1']} ms ({costs['detection_and_meeting_ms_cN']})"
        f"\nSQL alone (EXPLAIN ANALYZE, {explained['meeting_candidates'].get('samples')} samples,"
        f" median/p95 execution): meeting candidates {candidates.get('median')}/"
        f"{candidates.get('p95')} ms, nearby contacts {nearby.get('median')}/{nearby.get('p95')} ms"
        f"\nmeetings found in measured check-ins: {meetings_measured};"
        f" database since the first check-in phase: {written}"
        f"\ntotal run time {total_s} s"
    )
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {key: str(value) for key, value in vars(args).items()},
        "source": source_state(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": [round(value, 2) for value in load_before],
            "load_average_after": [round(value, 2) for value in os.getloadavg()],
        },
        "database": facts,
        "seed": {"venues": venue_seed, "social": social_seed, "checkins_refresh": refresh},
        "sanity": sanity,
        "explain": explained,
        "results": results,
        "ratios": ratios,
        "checkin_costs_ms": costs,
        "meetings": {"in_measured_checkins": meetings_measured, "database": written},
        "total_s": total_s,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"results written to {args.output}")


if __name__ == "__main__":
    main()
