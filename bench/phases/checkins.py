"""Check-ins: whom the benchmark deals them to, the API under load (wrk) with CPU per
check-in and what the database says they did, and their own SQL replayed (pgbench)."""

import json
import math
import random
import time
from dataclasses import dataclass, field
from hashlib import md5

import psycopg

from bench.harness import replay, wrk
from bench.harness.database import quiesce
from bench.harness.monitor import PhaseMonitor
from bench.harness.seed import recent
from bench.harness.seed.history import FAVOURITE_SHARE, HANDLE_PREFIX, PLAN
from bench.harness.seed.venues import METRES_PER_DEGREE
from bench.phases.run import Run

PATH = "/api/v1/checkins"
ACCURACY_M = 20.0
JITTER_M = 8.0  # how far from the venue's point the phone says it is (1 sigma)
WORLD_USERS = HANDLE_PREFIX.replace("_", r"\_") + "%"
SINCE = (("meetings", "created_at"), ("user_badges", "awarded_at"), ("mayorship_changes", "at"))
SINCE += (("points_ledger", "created_at"),)  # what a phase's check-ins wrote: (table, time)
RECENT_CONTACT = "90 minutes"  # a contact's check-in this recent makes a meeting


@dataclass
class Dealt:
    """Fresh users' check-ins for the phases that POST them, every user in one only."""

    replay: list = field(default_factory=list)  # (user_id, body): the replay's sample
    rounds: list = field(default_factory=list)  # per round: (warm-up, measured) items
    plans: list = field(default_factory=list)  # (user_id, body)


def deal_all(conn: psycopg.Connection, history_max_id: int, args) -> Dealt:
    """Deal every chosen phase's check-ins; the replay's sample the rounds' deal."""
    rng = random.Random(time.time_ns())
    users, found = fresh_users(conn, history_max_id, rng), Dealt()
    if "checkins" in args.phases:
        rate, sample = args.checkin_max_rate, args.replay_checkins
        count = args.rounds * (args.checkin_warmup + args.checkin_seconds) * rate + sample
        dealt, users = deal(conn, users[:count], args.meet_share, rng), users[count:]
        found.replay = [(user, body) for user, body, _ in dealt[:sample]]
        found.rounds = _slices(dealt[sample:], args)
    if "plans" in args.phases:
        dealt = deal(conn, users[: args.explain_samples], args.meet_share, rng)
        found.plans = [(user, body) for user, body, _ in dealt]
    return found


def _slices(jobs: list, args) -> list[tuple[list, list]]:
    """Cut the rounds' items: per round, the warm-up's and the measured part's."""
    warm = args.checkin_warmup * args.checkin_max_rate
    measured = args.checkin_seconds * args.checkin_max_rate
    per_round = max(1, len(jobs) // args.rounds)
    if per_round < warm + measured:
        print(f"WARNING: {len(jobs):,} users for the check-ins: fewer than asked", flush=True)
        warm = per_round * warm // (warm + measured)
    rounds = [jobs[n * per_round : (n + 1) * per_round] for n in range(args.rounds)]
    return [(chunk[:warm], chunk[warm : warm + measured]) for chunk in rounds]


def world_users(conn: psycopg.Connection) -> list[int]:
    """Every seeded world user's id, in id order."""
    rows = conn.execute("SELECT id FROM users WHERE handle LIKE %s ORDER BY id", (WORLD_USERS,))
    return [row[0] for row in rows]


def fresh_users(conn: psycopg.Connection, history_max_id: int, rng: random.Random) -> list[int]:
    """The world's users that may check in now, shuffled."""
    active = recent.recently_active(conn, history_max_id)
    users = [user for user in world_users(conn) if user not in active]
    rng.shuffle(users)
    return users


def deal(conn: psycopg.Connection, users: list[int], meet_share: float, rng) -> list[tuple]:
    """Deal ``(user_id, body, kind)`` in random order, a ``meet`` share first."""
    meet_count = round(len(users) * meet_share)
    meets = _meeting_venues(conn, users[:meet_count])
    others = [user for user in users if user not in meets]
    jobs = [(user, *where, "meet") for user, where in meets.items()]
    jobs += [(user, *where, "usual") for user, where in _usual_venues(conn, others, rng).items()]
    rng.shuffle(jobs)
    return [(user, _body(venue, lat, lon, rng), kind) for user, venue, lat, lon, kind in jobs]


def _meeting_venues(conn: psycopg.Connection, users: list[int]) -> dict[int, tuple]:
    """Where each of ``users`` (sharing) meets a sharing mutual contact: the venue of one of
    the contact's recent public check-ins, none of the user's recent venues, the one with
    the least md5 of its id; ``{user: (venue, lat, lon)}`` in user order. One table a
    statement: Citus joins no user's rows with another user's."""
    sharing = "SELECT id FROM users WHERE id = ANY(%s) AND location_sharing <> 'off'"
    users = [row[0] for row in conn.execute(sharing, (users,))]
    pairs = conn.execute(
        "SELECT user_id, other_id FROM relationships WHERE user_id = ANY(%s) AND mutual",
        (users,),
    ).fetchall()
    others = [row[0] for row in conn.execute(sharing, (list({o for _, o in pairs}),))]
    made = conn.execute(f"SELECT id FROM {recent.IDS} WHERE user_id = ANY(%s)", (others,))
    found = conn.execute(
        "SELECT user_id, id, venue_id FROM checkins WHERE user_id = ANY(%s) AND id = ANY(%s)"
        f" AND NOT private AND effective_at > now() - interval '{RECENT_CONTACT}'",
        (others, [row[0] for row in made]),
    ).fetchall()
    theirs: dict[int, list] = {}
    for other, checkin_id, venue_id in found:
        theirs.setdefault(other, []).append((md5(str(checkin_id).encode()).hexdigest(), venue_id))
    mine: dict[int, set] = {}
    query = f"SELECT user_id, venue_id FROM {recent.PLAN} WHERE user_id = ANY(%s)"
    for user_id, venue_id in conn.execute(query, (users,)):
        mine.setdefault(user_id, set()).add(venue_id)
    picked: dict[int, tuple[str, int]] = {}
    for user_id, other in pairs:
        for key, venue_id in theirs.get(other, ()):
            if venue_id not in mine.get(user_id, ()) and (
                user_id not in picked or key < picked[user_id][0]
            ):
                picked[user_id] = (key, venue_id)
    coords = _coordinates(conn, {venue for _, venue in picked.values()})
    return {user: (venue, *coords[venue]) for user, (_, venue) in sorted(picked.items())}


def _coordinates(conn: psycopg.Connection, venues: set[int]) -> dict[int, tuple]:
    """``{venue: (lat, lon)}``."""
    rows = conn.execute(
        "SELECT id, ST_Y(location::geometry), ST_X(location::geometry) FROM venues"
        " WHERE id = ANY(%s)",
        (list(venues),),
    )
    return {row[0]: row[1:] for row in rows}


def _usual_venues(conn: psycopg.Connection, users: list[int], rng) -> dict[int, tuple]:
    """A favourite or nearby venue for each user, none of their recent ones."""
    plans = conn.execute(
        "SELECT p.user_id, p.favourites, p.nearby, coalesce(r.venues, '{}')"
        f" FROM {PLAN} p LEFT JOIN (SELECT user_id, array_agg(venue_id) AS venues"
        f"  FROM {recent.PLAN} WHERE user_id = ANY(%(u)s) GROUP BY 1) r"
        "  ON r.user_id = p.user_id WHERE p.user_id = ANY(%(u)s)",
        {"u": users},
    ).fetchall()
    picked = {}
    for user_id, favourites, nearby, mine in plans:
        favourites = [v for v in favourites if v not in set(mine)]
        nearby = [v for v in nearby if v not in set(mine)]
        if favourites and rng.random() < FAVOURITE_SHARE:
            picked[user_id] = favourites[int(rng.random() ** 2 * len(favourites))]
        elif nearby:
            picked[user_id] = rng.choice(nearby)
    coords = _coordinates(conn, set(picked.values()))
    return {user: (venue, *coords[venue]) for user, venue in picked.items()}


def _body(venue_id: int, lat: float, lon: float, rng: random.Random) -> str:
    """A check-in ~``JITTER_M`` metres from the venue's point, 6 decimals."""
    dlat = rng.gauss(0, JITTER_M) / METRES_PER_DEGREE
    dlon = rng.gauss(0, JITTER_M) / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
    location = {"lat": round(lat + dlat, 6), "lon": round(lon + dlon, 6)}
    return json.dumps({"venue_id": venue_id, "location": location, "accuracy_m": ACCURACY_M})


def marker(conn: psycopg.Connection) -> tuple[int, object]:
    """Where the check-ins and the clock stand (the start of a phase)."""
    return conn.execute("SELECT coalesce(max(id), 0), now() FROM checkins").fetchone()


def effects(conn: psycopg.Connection, since: tuple[int, object]) -> dict:
    """Count what the check-ins stored since ``since`` did."""
    keys = ("stored", "eligible", "points", "distinct_users", "meeting_rows", "badges_awarded")
    keys += ("mayorship_changes", "ledger_lines")
    row = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE eligible), coalesce(sum(points), 0)::int,"
        " count(DISTINCT user_id) FROM checkins WHERE id > %s",
        (since[0],),
    ).fetchone()
    for table, column in SINCE:  # one statement each: Citus pushes down no subquery
        query = f"SELECT count(*) FROM {table} WHERE {column} >= %s"  # beside an aggregate
        row += conn.execute(query, (since[1],)).fetchone()
    reasons = conn.execute(
        "SELECT r->>'code', count(*) FROM checkins, jsonb_array_elements(reasons) r"
        " WHERE id > %s GROUP BY 1",
        (since[0],),
    ).fetchall()
    kinds = conn.execute(
        "SELECT kind, count(*) FROM notifications WHERE created_at >= %s GROUP BY 1", (since[1],)
    ).fetchall()
    found = dict(zip(keys, row, strict=True))
    found["ineligible"] = found["stored"] - found["eligible"]
    return {**found, "ineligible_reasons": dict(reasons), "notifications": dict(kinds)}


def prepare(run: Run, jobs: list) -> replay.Replay:
    """Capture ``jobs``' statements in process and write the replay's scripts."""
    print(f"capturing {len(jobs)} check-ins' SQL in process ...", flush=True)
    args = run.args
    folder = run.tmp / "checkins_sql"
    prepared = replay.prepare(
        run.app, run.conninfo, jobs, folder, args.concurrency, args.replay_mode
    )
    print(f"  {prepared.figures}", flush=True)
    return prepared


def measure(run: Run, address: str, rounds: list, prepared: replay.Replay,
            first: int = 1) -> tuple[list, list]:  # fmt: skip
    """Run each round (numbered from ``first``): the check-ins under the monitor, then
    their SQL replayed."""
    if first == 1:
        print(f"check-ins and their SQL replayed: {len(rounds)} rounds ...", flush=True)
    args, measured, replayed = run.args, [], []
    with psycopg.connect(run.conninfo, autocommit=True) as conn:
        for index, (warm, items) in enumerate(rounds, first):
            files = {}
            for part, jobs in (("warm", warm), ("measured", items)):
                rows = [(run.tokens[user], body) for user, body, _ in jobs]
                files[part] = wrk.write_items(run.tmp / f"checkins_{index}_{part}.txt", rows)
            wrk.run_post(address, files["warm"], args.concurrency, args.checkin_warmup, PATH)
            time.sleep(0.5)  # the last warm-up answers commit
            since = marker(conn)
            with PhaseMonitor(run.conninfo, address, client_marker="wrk") as monitor:
                seconds = args.checkin_seconds
                result = wrk.run_post(address, files["measured"], args.concurrency, seconds, PATH)
            time.sleep(0.5)
            result["machine"] = monitor.report(
                result["window"], result["requests"], result["seconds"]
            )
            result["database"] = effects(conn, since)
            result["meet_items"] = sum(1 for _, _, kind in items if kind == "meet")
            measured.append(result)
            print(
                f"  round {index}: {result['throughput_rps']}/s, median {result['median_ms']} ms,"
                f" p99 {result['p99_ms']} ms, statuses {result['statuses']}, eligible"
                f" {result['eligible']}, ran out {result['ran_out']}; database"
                f" {result['database']}",
                flush=True,
            )
            quiesce(run.conninfo)
            replayed.append(_replay_round(run, address, prepared, index))
    return measured, replayed


def _replay_round(run: Run, address: str, prepared: replay.Replay, index: int) -> dict:
    """One round of the check-ins' own SQL under pgbench (warm-up, then measured)."""
    seconds = run.args.checkin_seconds
    prepared.run(run.args.checkin_warmup)
    with PhaseMonitor(run.conninfo, address, client_marker="pgbench") as monitor:
        result = prepared.run(seconds)
    ended = result["window"][1]  # the run's last seconds: not pgbench's start-up
    window = (max(result["window"][0], ended - seconds), ended)
    result["machine"] = monitor.report(window, result["requests"], seconds)
    errors = (
        f", errors {result['errors']} ({result.get('first_error')})" if result["errors"] else ""
    )
    print(
        f"  round {index} SQL replay: {result['throughput_rps']}/s, median"
        f" {result['median_ms']} ms, p99 {result['p99_ms']} ms, retried {result['retried']}"
        + errors,
        flush=True,
    )
    return result
