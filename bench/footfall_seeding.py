"""Seed a year of check-ins around one busy venue for the footfall benchmark.

New York: ``venues`` bench venues clustered like the city (``seeding.bench_rows``, time
zone from ``geo.timezones.timezone_at``, ``city`` from ``geo.cities.city_of``, radius
100 m), ``users`` people (``bench_ff_000000``..., password ``!``), and check-ins over the
365 days ending at seeding time:

- exactly ``busy`` at venue 1, the busy one: 3 staff (listed in ``venue_staff``, ~5 shifts
  a week each); regulars, as many as 1.5 % of ``busy`` (3,000 at 200 k), making 55 % of
  its check-ins, several times a week over a stretch of weeks (a tenth all year), once a
  day at most, mostly at a habitual hour; occasional visitors (7.5 %, two visits or more)
  and one-time visitors (15 %) for the rest; 2 % are repeats 5-55 minutes after one of
  the same person's (``too_soon``: still footfall); lunch and evening peaks, more on
  Fridays and weekends (brunch), a mild season;
- ``background`` at the other venues (popularity and people log-normal, the same daily
  curve).

Everywhere ~3 % are flagged (half ``imprecise``: accuracy 550-2,000 m at the venue; half
``too_far``: 250-2,500 m away, accuracy 5-60 m), ~5 % private, and any check-in less than
60 minutes after the same person's previous one at the same venue is ``too_soon``; the
``reasons`` are made by ``geo.rules`` as the service makes them. ``too_fast`` is not
simulated. Eligible check-ins earn 5 points, 15 at a person's first eligible visit to the
venue; ``local_day`` is the venue's, ``created_at`` = ``effective_at`` (no client time).
One bench user owns the busy venue (``venues.owner_id``).

All rows are generated with numpy, sorted by time (ids and heap in arrival order, the
busy venue's rows interleaved with everyone else's) and COPYed with ``FREEZE`` after
``TRUNCATE users, venues ... CASCADE`` (the check-ins' indexes dropped during the COPY
and rebuilt from the catalogue, as ``checkin_seeding`` does). Then the rollup is built
with ``service.footfall.backfill.rebuild`` in process and everything is ``VACUUM
ANALYZE``d. The table ``bench_footfall_seed`` keeps the options, timings and facts (busy
venue, owner, staff, the seed's "now"); the seed is skipped while the options match.
"""

import json
import sys
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
import seeding
from checkin_seeding import _checkin_ddl

if str(seeding.ROOT) not in sys.path:
    sys.path.insert(0, str(seeding.ROOT))

from geographiclib.geodesic import Geodesic

from geo import rules
from geo.cities import city_of
from geo.coords import LatLon
from geo.timezones import timezone_at

HANDLE_PREFIX = "bench_ff_"
MARK = "bench_footfall_seed"
DAYS = 365
RADIUS_M = 100
STAFF = 3
STAFF_SHIFTS = 260  # check-ins a year for each staff member
REGULAR_SHARE = 0.55  # of the busy venue's check-ins
REGULARS_PER_CHECKIN = 0.015  # regulars = this x busy check-ins (3,000 at 200 k)
OCCASIONAL_PER_CHECKIN = 0.075  # people with 2+ visits (15,000 at 200 k)
ONE_TIME_PER_CHECKIN = 0.15  # one visit each (30,000 at 200 k)
REPEAT_SHARE = 0.02  # too_soon repeats at the busy venue
FLAGGED_SHARE = 0.03  # imprecise or too_far, half each
PRIVATE_SHARE = 0.05
POINTS_CHECKIN, POINTS_FIRST_VISIT = 5, 10
CHUNK = 200_000
# Share of a day's check-ins in each local hour: lunch and evening peaks; brunch at weekends.
WEEKDAY_HOURS = np.array(
    [1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 3, 5, 4, 3, 5, 10, 9, 5, 4, 4, 6, 9, 10, 9, 6, 4, 2],
    dtype=float,
)
WEEKEND_HOURS = np.array(
    [3, 2, 1, 0.5, 0.2, 0.2, 0.5, 1, 2, 5, 8, 10, 10, 9, 7, 6, 6, 7, 9, 10, 9, 8, 6, 4],
    dtype=float,
)
WEEKDAY_FACTOR = np.array([0.9, 0.95, 1.0, 1.05, 1.3, 1.6, 1.35])  # Monday first
CHECKIN_COLUMNS = (
    "user_id, venue_id, location, accuracy_m, private, effective_at, local_day, eligible,"
    " reasons, points, created_at"
)
OK, IMPRECISE, TOO_FAR = 0, 1, 2


def seeded(conn: psycopg.Connection) -> dict | None:
    """Options, timings and facts of the seed in place (None if there is none)."""
    if not conn.execute("SELECT to_regclass(%s)", (MARK,)).fetchone()[0]:
        return None
    row = conn.execute(f"SELECT options, timings, facts FROM {MARK}").fetchone()
    return None if row is None else {"options": row[0], "timings": row[1], "facts": row[2]}


def seed(conn: psycopg.Connection, url: str, options: dict) -> dict | None:
    """Seed everything unless a seed with the same ``options`` is there (then None);
    returns the timings. ``conn`` must be in autocommit mode."""
    previous = seeded(conn)
    if previous and previous["options"] == options:
        return None
    timings: dict[str, float] = {}
    started = mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        timings[name] = round(now - mark, 2)
        mark = now
        print(f"  {name}: {timings[name]} s", flush=True)

    rng = np.random.default_rng(options["seed"])
    now = int(time.time())
    venues = _venue_rows(options["venues"], options["seed"])
    lap("venue_rows_s")
    zone = venues[0][4]
    if any(row[4] != zone for row in venues):
        raise RuntimeError("the bench venues span several time zones; the seed assumes one")
    with conn.transaction():
        conn.execute("SET LOCAL synchronous_commit = off")
        conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
        conn.execute("SET LOCAL session_replication_role = replica")  # ids come from here
        conn.execute(f"DROP TABLE IF EXISTS {MARK}")
        conn.execute("TRUNCATE users, venues RESTART IDENTITY CASCADE")
        venue_ids, ewkb, coords = _copy_venues(conn, venues)
        user_ids = _copy_users(conn, options["users"])
        lap("copy_venues_users_s")
        plan = _plan(rng, options, now, zone)
        rows = _finish(rng, plan, coords, now)
        lap("generate_s")
        _copy_checkins(conn, rows, user_ids, venue_ids, ewkb, zone, now, lap)
        roles = plan["roles"]
        busy, owner = int(venue_ids[0]), int(user_ids[roles["owner"]])
        staff = [int(user_ids[i]) for i in roles["staff"]]
        conn.execute("UPDATE venues SET owner_id = %s WHERE id = %s", (owner, busy))
        for user_id in staff:
            conn.execute(
                "INSERT INTO venue_staff (venue_id, user_id) VALUES (%s, %s)", (busy, user_id)
            )
        conn.execute(
            "UPDATE users u SET checkin_count = s.n, eligible_checkins = s.ok, points = s.points,"
            " last_timezone = %s FROM (SELECT user_id, count(*) AS n,"
            " count(*) FILTER (WHERE eligible) AS ok, sum(points) AS points FROM checkins"
            " GROUP BY user_id) s WHERE u.id = s.user_id",
            (zone,),
        )
        lap("staff_owner_users_s")
    rollup_rows = rebuild_rollup(url)
    lap("rebuild_rollup_s")
    for table in ("checkins", "venue_visits", "users", "venues", "venue_staff"):
        conn.execute(f"VACUUM ANALYZE {table}")
    conn.execute("CHECKPOINT")
    lap("vacuum_analyze_checkpoint_s")
    timings["total_s"] = round(time.perf_counter() - started, 2)
    facts = {
        "busy_venue_id": busy,
        "owner_id": owner,
        "staff_ids": staff,
        "zone": zone,
        "now": now,
        "last_day": datetime.fromtimestamp(now, ZoneInfo(zone)).date().isoformat(),
        "rollup_rows": rollup_rows,
        "regulars": len(roles["regulars"]),
        "occasional_visitors": len(roles["occasional"]),
        "one_time_visitors": len(roles["once"]),
        "regular_checkins": plan["regular_checkins"],
        "regular_visits_per_week": plan["regular_visits_per_week"],
        "visitor_ids_sample": [int(user_ids[i]) for i in roles["visitors_sample"]],
    }
    conn.execute(
        f"CREATE TABLE {MARK} (options json NOT NULL, timings json NOT NULL, facts json NOT NULL,"
        " seeded_at timestamptz NOT NULL DEFAULT now())"
    )
    conn.execute(
        f"INSERT INTO {MARK} (options, timings, facts) VALUES (%s, %s, %s)",
        (json.dumps(options), json.dumps(timings), json.dumps(facts)),
    )
    return timings


def _venue_rows(count: int, seed: int) -> list[tuple]:
    """``(name, category, lat, lon, zone, city)`` of the bench venues; the first is busy."""
    centres, _ = seeding.load_centres()
    rows = []
    for index, (name, category, lat, lon) in enumerate(seeding.bench_rows(centres, count, seed)):
        position = LatLon(lat, lon)
        label = f"Busy Cafe (bench) #{index}" if index == 0 else name
        rows.append(
            (
                label,
                "Coffee Shop" if index == 0 else category,
                lat,
                lon,
                timezone_at(position),
                city_of(position),
            )
        )
    return rows


def _copy_venues(conn: psycopg.Connection, venues: list[tuple]):
    """COPY the venues; their ids, hex EWKB locations and (lat, lon) arrays, in order."""
    columns = "name, category, location, radius_m, timezone, city, source"
    with conn.cursor().copy(f"COPY venues ({columns}) FROM STDIN") as copy:
        for name, category, lat, lon, zone, city in venues:
            point = f"SRID=4326;POINT({lon} {lat})"
            copy.write_row((name, category, point, RADIUS_M, zone, city, seeding.SOURCE))
    rows = conn.execute(
        "SELECT id, location::text, ST_Y(location::geometry), ST_X(location::geometry)"
        " FROM venues ORDER BY id"
    ).fetchall()
    ids = np.array([row[0] for row in rows], dtype=np.int64)
    coords = np.array([(row[2], row[3]) for row in rows])
    return ids, [row[1] for row in rows], coords


def _copy_users(conn: psycopg.Connection, count: int) -> np.ndarray:
    """COPY the users (no password: they never log in); their ids, in handle order."""
    with conn.cursor().copy(
        "COPY users (handle, email, display_name, password_hash) FROM STDIN"
    ) as copy:
        for index in range(count):
            handle = f"{HANDLE_PREFIX}{index:06d}"
            copy.write_row((handle, f"{handle}@bench.invalid", f"Footfall User {index}", "!"))
    rows = conn.execute("SELECT id FROM users ORDER BY handle").fetchall()
    return np.array([row[0] for row in rows], dtype=np.int64)


# --- when: local days and hours -> UTC ----------------------------------------------------


class Calendar:
    """The local days of the window and conversions between local and UTC seconds."""

    def __init__(self, now: int, zone: str):
        self.start, self.now = now - DAYS * 86400, now
        tz = ZoneInfo(zone)
        first = datetime.fromtimestamp(self.start, tz).date()
        last = datetime.fromtimestamp(now, tz).date()
        self.days = np.arange((last - first).days + 1)
        self.first_ordinal = first.toordinal()
        self.weekday = (first.weekday() + self.days) % 7
        season = 1 + 0.15 * np.sin(2 * np.pi * (self.first_ordinal + self.days) / 365.25)
        self.weight = WEEKDAY_FACTOR[self.weekday] * season
        low = self.start - 3 * 86400
        self.hour0 = low - low % 3600
        hours = range(self.hour0, now + 3 * 86400, 3600)
        self.offsets = np.array(
            [datetime.fromtimestamp(h, tz).utcoffset().total_seconds() for h in hours],
            dtype=np.int64,
        )

    def offset_at(self, utc: np.ndarray) -> np.ndarray:
        """UTC offsets (seconds) in force at ``utc`` (zone changes fall on the hour)."""
        return self.offsets[(utc - self.hour0) // 3600]

    def to_utc(self, day: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        """UTC epoch seconds of local ``seconds`` after the midnight of day index ``day``."""
        local = (self.first_ordinal + day - date(1970, 1, 1).toordinal()) * 86400 + seconds
        guess = local - self.offset_at(np.clip(local, self.hour0, self.now + 86400))
        return local - self.offset_at(guess)

    def local_days(self, utc: np.ndarray) -> np.ndarray:
        """Local dates (``datetime64[D]``) of UTC epoch seconds."""
        return ((utc + self.offset_at(utc)) // 86400).astype("datetime64[D]")

    def hours(self, rng, day: np.ndarray) -> np.ndarray:
        """A local hour for each day index from the weekday or weekend curve."""
        weekend = self.weekday[day] >= 5
        weekday_pick = rng.choice(24, len(day), p=WEEKDAY_HOURS / WEEKDAY_HOURS.sum())
        weekend_pick = rng.choice(24, len(day), p=WEEKEND_HOURS / WEEKEND_HOURS.sum())
        return np.where(weekend, weekend_pick, weekday_pick)


def _instants(rng, calendar: Calendar, pick_day, pick_hour, count: int) -> np.ndarray:
    """``count`` UTC instants from day and hour pickers, redrawing any outside the window
    (local day 0 starts before it, the last day ends after now). Pickers get the row
    indexes still to draw and return day indexes / hours for them."""
    at = np.zeros(count, dtype=np.int64)
    todo = np.arange(count)
    while len(todo):
        day = pick_day(todo)
        hour = pick_hour(todo, day)
        at[todo] = calendar.to_utc(day, hour * 3600 + rng.integers(0, 3600, len(todo)))
        todo = todo[(at[todo] < calendar.start) | (at[todo] >= calendar.now)]
    return at


def _common_day(rng, calendar: Calendar):
    """A day picker over the whole window (weekday weights and season)."""
    p = calendar.weight / calendar.weight.sum()
    return lambda todo: rng.choice(calendar.days, len(todo), p=p)


# --- who, where and when ------------------------------------------------------------------


def _split(total: int, weights: np.ndarray, rng, floor: int = 0) -> np.ndarray:
    """``total`` split over ``len(weights)`` people, each at least ``floor``."""
    counts = np.full(len(weights), floor, dtype=np.int64)
    counts += rng.multinomial(total - floor * len(weights), weights / weights.sum())
    return counts


def _roles(rng, options: dict) -> dict:
    """Which users (indexes) own, staff and visit the busy venue, and how."""
    busy, users = options["busy"], options["users"]
    regulars = max(10, round(busy * REGULARS_PER_CHECKIN))
    occasional = max(10, round(busy * OCCASIONAL_PER_CHECKIN))
    once = round(busy * ONE_TIME_PER_CHECKIN)
    needed = 1 + STAFF + regulars + occasional + once
    if needed > users:
        raise ValueError(f"{needed} users needed for {busy} busy check-ins, {users} asked")
    order = rng.permutation(users)
    cut = np.cumsum([1, STAFF, regulars, occasional])
    owner, staff, regular, occ, one = np.split(order[:needed], cut)
    return {
        "owner": int(owner[0]),
        "staff": staff.tolist(),
        "regulars": regular,
        "occasional": occ,
        "once": one,
        "visitors_sample": np.concatenate((regular, occ))[:3000],
    }


def _busy_staff(rng, calendar: Calendar, staff: list[int]):
    """Each staff member ~5 shifts a week, one check-in at the shift's start."""
    shifts = min(STAFF_SHIFTS, len(calendar.days) - 2)
    users, days, hours = [], [], []
    for index, person in enumerate(staff):
        picked = rng.choice(calendar.days[1:-1], shifts, replace=False)  # whole days only
        users.append(np.full(shifts, person))
        days.append(picked)
        start = 8 if index == 0 else 16
        hours.append(start + rng.integers(0, 2, shifts))
    day, hour = np.concatenate(days), np.concatenate(hours)
    at = calendar.to_utc(day, hour * 3600 + rng.integers(0, 1800, len(day)))
    at = np.clip(at, calendar.start, calendar.now - 1)
    return np.concatenate(users), at


def _capped_split(total: int, weights: np.ndarray, cap: np.ndarray, rng) -> np.ndarray:
    """``total`` split by ``weights``, nobody above ``cap`` (the excess goes to others)."""
    counts = np.minimum(_split(total, weights, rng), cap)
    while (short := total - int(counts.sum())) > 0:
        slack = cap - counts
        counts += np.minimum(rng.multinomial(short, slack / slack.sum()), slack)
    return counts


def _busy_regulars(rng, calendar: Calendar, people: np.ndarray, total: int):
    """Regulars: each over a stretch of weeks (a tenth the whole year), several visits a
    week on average, at most one a day (weekday-weighted days), mostly at a habitual hour.
    Returns users, instants and the regulars' weeks in all."""
    n = len(people)
    inner = len(calendar.days) - 2  # whole days only: day 0 and today are partial
    weeks = np.clip(rng.exponential(11.0, n), 3, 52)
    weeks[rng.random(n) < 0.1] = 52
    length = np.minimum((weeks * 7).astype(np.int64), inner)
    start = 1 + (rng.random(n) * (inner - length + 1)).astype(np.int64)
    counts = _capped_split(total, weeks * rng.lognormal(0.0, 0.4, n), length * 6 // 7, rng)
    habit = rng.choice(24, n, p=WEEKDAY_HOURS / WEEKDAY_HOURS.sum())
    days = []
    for person in range(n):
        stretch = calendar.days[start[person] : start[person] + length[person]]
        weight = WEEKDAY_FACTOR[calendar.weekday[stretch]]
        days.append(rng.choice(stretch, counts[person], replace=False, p=weight / weight.sum()))
    who = np.repeat(np.arange(n), counts)
    day = np.concatenate(days)
    near = habit[who] + np.rint(rng.normal(0, 0.7, len(who))).astype(np.int64)
    usual = rng.random(len(who)) < 0.75
    hour = np.where(usual, np.clip(near, 0, 23), calendar.hours(rng, day))
    at = calendar.to_utc(day, hour * 3600 + rng.integers(0, 3600, len(who)))
    return people[who], at, float((length / 7).sum())


def _busy_visitors(rng, calendar: Calendar, occasional: np.ndarray, once: np.ndarray, total: int):
    """Occasional visitors (two visits or more, log-normal) and one-time visitors."""
    counts = _split(total - len(once), rng.lognormal(0.0, 0.8, len(occasional)), rng, floor=2)
    people = np.concatenate((np.repeat(occasional, counts), once))
    pick_day = _common_day(rng, calendar)
    at = _instants(rng, calendar, pick_day, lambda _t, day: calendar.hours(rng, day), len(people))
    return people, at


def _repeats(rng, users: np.ndarray, at: np.ndarray, count: int, calendar: Calendar):
    """``count`` second check-ins 5-55 minutes after (or before, near now) a random one."""
    pick = rng.choice(len(users), count, replace=False)
    gap = rng.integers(5 * 60, 55 * 60, count)
    later = at[pick] + gap
    return users[pick], np.where(later < calendar.now, later, at[pick] - gap)


def _plan(rng, options: dict, now: int, zone: str) -> dict:
    """Every check-in's user index, venue index and instant (unsorted), and the roles."""
    calendar = Calendar(now, zone)
    roles = _roles(rng, options)
    busy = options["busy"]
    repeats = round(busy * REPEAT_SHARE)
    primary = busy - repeats
    staff_users, staff_at = _busy_staff(rng, calendar, roles["staff"])
    regular_total = round(busy * REGULAR_SHARE)
    reg_users, reg_at, regular_weeks = _busy_regulars(
        rng, calendar, roles["regulars"], regular_total
    )
    rest = primary - len(staff_users) - regular_total
    vis_users, vis_at = _busy_visitors(rng, calendar, roles["occasional"], roles["once"], rest)
    guests = np.concatenate((reg_users, vis_users[: len(vis_users) - len(roles["once"])]))
    guests_at = np.concatenate((reg_at, vis_at[: len(vis_at) - len(roles["once"])]))
    rep_users, rep_at = _repeats(rng, guests, guests_at, repeats, calendar)
    busy_users = np.concatenate((staff_users, reg_users, vis_users, rep_users))
    busy_at = np.concatenate((staff_at, reg_at, vis_at, rep_at))
    others = options["venues"] - 1
    background = options["background"]
    venue = 1 + rng.choice(others, background, p=_normalised(rng.lognormal(0, 1.0, others)))
    people = options["users"]
    bg_users = rng.choice(people, background, p=_normalised(rng.lognormal(0, 1.0, people)))
    bg_at = _instants(
        rng,
        calendar,
        _common_day(rng, calendar),
        lambda _t, day: calendar.hours(rng, day),
        background,
    )
    return {
        "calendar": calendar,
        "roles": roles,
        "user": np.concatenate((busy_users, bg_users)),
        "venue": np.concatenate((np.zeros(busy, dtype=np.int64), venue)),
        "at": np.concatenate((busy_at, bg_at)),
        "busy_staff": len(staff_users),
        "regular_checkins": regular_total,
        "regular_visits_per_week": round(regular_total / regular_weeks, 2),
    }


def _normalised(weights: np.ndarray) -> np.ndarray:
    return weights / weights.sum()


# --- what the service would have stored ---------------------------------------------------


def _finish(rng, plan: dict, coords: np.ndarray, now: int) -> dict:
    """Flags, accuracy, location, private, too_soon, reasons, eligibility and points, all
    in arrival (time) order."""
    order = np.argsort(plan["at"], kind="stable")
    user, venue, at = plan["user"][order], plan["venue"][order], plan["at"][order]
    n = len(at)
    flag = np.where(rng.random(n) < FLAGGED_SHARE, rng.integers(1, 3, n), OK)
    accuracy = np.where(
        flag == IMPRECISE, rng.integers(11, 41, n) * 50.0, rng.integers(5, 61, n).astype(float)
    )
    private = rng.random(n) < PRIVATE_SHARE
    # too_soon: the same person's previous check-in at this venue under an hour before
    by_pair = np.lexsort((np.arange(n), venue, user))
    same = (user[by_pair][1:] == user[by_pair][:-1]) & (venue[by_pair][1:] == venue[by_pair][:-1])
    gap = at[by_pair][1:] - at[by_pair][:-1]
    soon_rows = by_pair[1:][same & (gap < 3600)]
    soon_gap = dict(zip(soon_rows.tolist(), gap[same & (gap < 3600)].tolist(), strict=True))
    locations: dict[int, str] = {}
    distances: dict[int, float] = {}
    geod = Geodesic.WGS84
    for row in np.flatnonzero(flag == TOO_FAR).tolist():
        lat, lon = coords[venue[row]]
        distance = float(rng.uniform(250, 2500))
        moved = geod.Direct(lat, lon, float(rng.uniform(0, 360)), distance)
        locations[row] = f"SRID=4326;POINT({moved['lon2']:.7f} {moved['lat2']:.7f})"
        distances[row] = distance
    reasons: dict[int, str] = {}
    for row in sorted(set(np.flatnonzero(flag != OK).tolist()) | set(soon_gap)):
        found = [
            rules.imprecise(float(accuracy[row])),
            rules.too_far(distances.get(row, 0.0), RADIUS_M, float(accuracy[row])),
        ]
        if row in soon_gap:
            moment = datetime.fromtimestamp(int(at[row]), UTC)
            found.append(rules.too_soon(moment, moment - timedelta(seconds=soon_gap[row])))
        listed = [reason.as_dict() for reason in found if reason is not None]
        reasons[row] = json.dumps(listed).replace("\\", "\\\\")
    eligible = np.ones(n, dtype=bool)
    eligible[list(reasons)] = False
    points = np.where(eligible, POINTS_CHECKIN, 0)
    chosen = by_pair[eligible[by_pair]]
    pair = user[chosen] * (venue.max() + 1) + venue[chosen]
    first = chosen[np.concatenate(([True], pair[1:] != pair[:-1]))]
    points[first] += POINTS_FIRST_VISIT
    return {
        "user": user,
        "venue": venue,
        "at": at,
        "accuracy": accuracy,
        "private": private,
        "eligible": eligible,
        "points": points,
        "reasons": reasons,
        "locations": locations,
        "calendar": plan["calendar"],
    }


def _copy_checkins(conn, rows: dict, user_ids, venue_ids, ewkb, zone, now, lap) -> None:
    """Drop the check-ins' indexes, COPY the rows in arrival order, rebuild the indexes."""
    indexes, primary, referring = _checkin_ddl(conn)
    for (table, constraint), _ in referring:
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")
    conn.execute(f"ALTER TABLE checkins DROP CONSTRAINT {primary[0]}")
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    lap("drop_indexes_s")
    calendar: Calendar = rows["calendar"]
    user_text, venue_text = user_ids.astype(str), venue_ids.astype(str)
    total = len(rows["at"])
    with conn.cursor().copy(f"COPY checkins ({CHECKIN_COLUMNS}) FROM STDIN WITH (FREEZE)") as cp:
        for low in range(0, total, CHUNK):
            part = slice(low, low + CHUNK)
            at = rows["at"][part]
            when = np.datetime_as_string(at.astype("datetime64[s]"), unit="s").tolist()
            day = np.datetime_as_string(calendar.local_days(at)).tolist()
            lines = []
            for offset, (u, v, acc, priv, ok, pts) in enumerate(
                zip(
                    rows["user"][part].tolist(),
                    rows["venue"][part].tolist(),
                    rows["accuracy"][part].tolist(),
                    rows["private"][part].tolist(),
                    rows["eligible"][part].tolist(),
                    rows["points"][part].tolist(),
                    strict=True,
                )
            ):
                row = low + offset
                where = rows["locations"].get(row) or ewkb[v]
                reasons = "[]" if ok else rows["reasons"][row]
                lines.append(
                    f"{user_text[u]}\t{venue_text[v]}\t{where}\t{acc}\t{'t' if priv else 'f'}\t"
                    f"{when[offset]}+00\t{day[offset]}\t{'t' if ok else 'f'}\t{reasons}\t"
                    f"{pts}\t{when[offset]}+00\n"
                )
            cp.write("".join(lines))
    lap("copy_checkins_s")
    conn.execute(f"ALTER TABLE checkins ADD CONSTRAINT {primary[0]} {primary[1]}")
    for _, definition in indexes:
        conn.execute(definition)
    for (table, constraint), definition in referring:
        conn.execute(f"ALTER TABLE {table} ADD CONSTRAINT {constraint} {definition}")
    lap("rebuild_indexes_s")


def rebuild_rollup(url: str) -> int:
    """``service.footfall.backfill.rebuild`` of every venue, in process; visit rows."""
    from service import create_app
    from service.database import db
    from service.footfall import backfill

    app = create_app(
        {"DATABASE_URL": url, "DB_STATEMENT_TIMEOUT_MS": 0, "JWT_SECRET_KEY": "x" * 48}
    )
    with app.app_context():
        rows = backfill.rebuild(db_session=db.session)
        db.session.commit()
    return rows


def facts(conn: psycopg.Connection, busy: int, staff: list[int]) -> dict:
    """What the database holds, for the report (counts at the busy venue, sizes)."""
    row = conn.execute(
        'SELECT count(*), count(*) FILTER (WHERE reasons @> \'[{"code": "imprecise"}]\'),'
        ' count(*) FILTER (WHERE reasons @> \'[{"code": "too_far"}]\'),'
        ' count(*) FILTER (WHERE reasons @> \'[{"code": "too_soon"}]\'),'
        " count(*) FILTER (WHERE private), count(*) FILTER (WHERE user_id = ANY(%s)),"
        " count(DISTINCT user_id), min(effective_at), max(effective_at)"
        " FROM checkins WHERE venue_id = %s",
        (staff, busy),
    ).fetchone()
    per_user = conn.execute(
        "SELECT count(*) FILTER (WHERE n = 1), count(*) FILTER (WHERE n >= 10),"
        " coalesce(sum(n) FILTER (WHERE n >= 10), 0)"
        " FROM (SELECT user_id, count(*) AS n FROM checkins WHERE venue_id = %s"
        " AND user_id <> ALL(%s) GROUP BY user_id) s",
        (busy, staff),
    ).fetchone()
    sizes = conn.execute(
        "SELECT (SELECT count(*) FROM checkins), (SELECT count(*) FROM venues),"
        " (SELECT count(*) FROM users), (SELECT count(*) FROM venue_visits),"
        " (SELECT count(*) FROM venue_visits WHERE venue_id = %s),"
        " pg_total_relation_size('checkins'), pg_relation_size('venue_visits'),"
        " pg_relation_size('pk_venue_visits')",
        (busy,),
    ).fetchone()
    return {
        "busy_checkins": row[0],
        "busy_imprecise": row[1],
        "busy_too_far": row[2],
        "busy_too_soon": row[3],
        "busy_private": row[4],
        "busy_staff_checkins": row[5],
        "busy_distinct_people": row[6],
        "busy_first_at": row[7].isoformat(),
        "busy_last_at": row[8].isoformat(),
        "busy_one_time_visitors": per_user[0],
        "busy_people_with_10_plus": per_user[1],
        "busy_checkins_of_people_with_10_plus": int(per_user[2]),
        "checkins": sizes[0],
        "venues": sizes[1],
        "users": sizes[2],
        "rollup_rows": sizes[3],
        "busy_rollup_rows": sizes[4],
        "checkins_total_mb": round(sizes[5] / 2**20, 1),
        "venue_visits_heap_mb": round(sizes[6] / 2**20, 1),
        "pk_venue_visits_mb": round(sizes[7] / 2**20, 1),
    }
