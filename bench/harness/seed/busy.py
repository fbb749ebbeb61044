"""The busy venue's year of check-ins, merged into the history (README)."""

import json
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from geographiclib.geodesic import Geodesic

from bench.harness.seed.venues import TIMES_SQUARE, TIMEZONE
from geo import rules

DAYS, RADIUS_M = 365, 100  # the busy venue's radius
STAFF, STAFF_SHIFTS = 3, 260  # check-ins a year for each staff member
REGULAR_SHARE = 0.55  # of the busy venue's check-ins
PEOPLE_PER_CHECKIN = (0.015, 0.075, 0.15)  # regulars, occasional, one-time visitors
REPEAT_SHARE, FLAGGED_SHARE, PRIVATE_SHARE = 0.02, 0.03, 0.05  # flagged: half each way
WEEKDAY_HOURS = np.array(  # share of a day's check-ins in each local hour
    [1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 3, 5, 4, 3, 5, 10, 9, 5, 4, 4, 6, 9, 10, 9, 6, 4, 2],
    dtype=float,
)
WEEKEND_HOURS = np.array(  # brunch
    [3, 2, 1, 0.5, 0.2, 0.2, 0.5, 1, 2, 5, 8, 10, 10, 9, 7, 6, 6, 7, 9, 10, 9, 8, 6, 4],
    dtype=float,
)
WEEKDAY_FACTOR = np.array([0.9, 0.95, 1.0, 1.05, 1.3, 1.6, 1.35])  # Monday first
OK, IMPRECISE, TOO_FAR = 0, 1, 2


class Calendar:
    """The local days of the year before ``now`` and conversions from local to UTC."""

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

    def hours(self, rng, day: np.ndarray) -> np.ndarray:
        """A local hour for each day index from the weekday or weekend curve."""
        weekend = self.weekday[day] >= 5
        weekday_pick = rng.choice(24, len(day), p=WEEKDAY_HOURS / WEEKDAY_HOURS.sum())
        weekend_pick = rng.choice(24, len(day), p=WEEKEND_HOURS / WEEKEND_HOURS.sum())
        return np.where(weekend, weekend_pick, weekday_pick)

    def instants(self, rng, count: int) -> np.ndarray:
        """Draw ``count`` instants on weighted days and hours inside the window."""
        at, todo = np.zeros(count, dtype=np.int64), np.arange(count)
        while len(todo):
            day = rng.choice(self.days, len(todo), p=self.weight / self.weight.sum())
            hour = self.hours(rng, day)
            at[todo] = self.to_utc(day, hour * 3600 + rng.integers(0, 3600, len(todo)))
            todo = todo[(at[todo] < self.start) | (at[todo] >= self.now)]
        return at


def _split(total: int, weights: np.ndarray, rng, floor: int = 0) -> np.ndarray:
    """``total`` split over ``len(weights)`` people, each at least ``floor``."""
    counts = np.full(len(weights), floor, dtype=np.int64)
    return counts + rng.multinomial(total - floor * len(weights), weights / weights.sum())


def _roles(rng, busy: int, users: int) -> dict:
    """Pick which users (indexes) own, staff and visit the busy venue."""
    regulars, occasional = (max(10, round(busy * share)) for share in PEOPLE_PER_CHECKIN[:2])
    needed = 1 + STAFF + regulars + occasional + round(busy * PEOPLE_PER_CHECKIN[2])
    if needed > users:
        raise ValueError(f"{needed} users needed for {busy} busy check-ins, {users} asked")
    cut = np.cumsum([1, STAFF, regulars, occasional])
    owner, staff, regular, occ, once = np.split(rng.permutation(users)[:needed], cut)
    return {"owner": int(owner[0]), "staff": staff, "regulars": regular, "occasional": occ,
            "once": once}  # fmt: skip


def _staff(rng, calendar: Calendar, staff: np.ndarray):
    """Each staff member ~5 shifts a week, one check-in at the shift's start."""
    shifts = min(STAFF_SHIFTS, len(calendar.days) - 2)
    days = [rng.choice(calendar.days[1:-1], shifts, replace=False) for _ in staff]
    hours = [(8 if n == 0 else 16) + rng.integers(0, 2, shifts) for n in range(len(staff))]
    day, hour = np.concatenate(days), np.concatenate(hours)
    at = calendar.to_utc(day, hour * 3600 + rng.integers(0, 1800, len(day)))
    return np.repeat(staff, shifts), np.clip(at, calendar.start, calendar.now - 1)


def _regulars(rng, calendar: Calendar, people: np.ndarray, total: int):
    """Draw the regulars' visits: a stretch of weeks each, mostly at a habitual hour."""
    n = len(people)
    inner = len(calendar.days) - 2  # whole days only: day 0 and today are partial
    weeks = np.clip(rng.exponential(11.0, n), 3, 52)
    weeks[rng.random(n) < 0.1] = 52
    length = np.minimum((weeks * 7).astype(np.int64), inner)
    start = 1 + (rng.random(n) * (inner - length + 1)).astype(np.int64)
    cap = length * 6 // 7
    counts = np.minimum(_split(total, weeks * rng.lognormal(0.0, 0.4, n), rng), cap)
    while (short := total - int(counts.sum())) > 0:  # nobody above the cap
        slack = cap - counts
        counts += np.minimum(rng.multinomial(short, slack / slack.sum()), slack)
    habit = rng.choice(24, n, p=WEEKDAY_HOURS / WEEKDAY_HOURS.sum())
    days = []
    for person in range(n):
        stretch = calendar.days[start[person] : start[person] + length[person]]
        weight = WEEKDAY_FACTOR[calendar.weekday[stretch]]
        days.append(rng.choice(stretch, counts[person], replace=False, p=weight / weight.sum()))
    who, day = np.repeat(np.arange(n), counts), np.concatenate(days)
    near = habit[who] + np.rint(rng.normal(0, 0.7, len(who))).astype(np.int64)
    usual = rng.random(len(who)) < 0.75
    hour = np.where(usual, np.clip(near, 0, 23), calendar.hours(rng, day))
    return people[who], calendar.to_utc(day, hour * 3600 + rng.integers(0, 3600, len(who)))


def _plan(rng, busy: int, users: int, now: int) -> tuple[dict, np.ndarray, np.ndarray]:
    """The roles, and every check-in's user index and instant, unsorted."""
    calendar = Calendar(now, TIMEZONE)
    roles = _roles(rng, busy, users)
    repeats = round(busy * REPEAT_SHARE)
    staff_users, staff_at = _staff(rng, calendar, roles["staff"])
    regular_total = round(busy * REGULAR_SHARE)
    reg_users, reg_at = _regulars(rng, calendar, roles["regulars"], regular_total)
    rest = busy - repeats - len(staff_users) - regular_total
    once = roles["once"]
    counts = _split(rest - len(once), rng.lognormal(0.0, 0.8, len(roles["occasional"])), rng, 2)
    occ_users = np.repeat(roles["occasional"], counts)
    occ_at = calendar.instants(rng, len(occ_users))
    once_at = calendar.instants(rng, len(once))
    guests, guests_at = np.concatenate((reg_users, occ_users)), np.concatenate((reg_at, occ_at))
    pick = rng.choice(len(guests), repeats, replace=False)  # too_soon: 5-55 min apart
    gap = rng.integers(5 * 60, 55 * 60, repeats)
    later = guests_at[pick] + gap
    rep_at = np.where(later < now, later, guests_at[pick] - gap)
    user = np.concatenate((staff_users, guests, once, guests[pick]))
    return roles, user, np.concatenate((staff_at, guests_at, once_at, rep_at))


def _finish(rng, user: np.ndarray, at: np.ndarray, lat: float, lon: float) -> dict:
    """In arrival order: flags, accuracy, location, private, too_soon, reasons."""
    order = np.argsort(at, kind="stable")
    user, at = user[order], at[order]
    n = len(at)
    flag = np.where(rng.random(n) < FLAGGED_SHARE, rng.integers(1, 3, n), OK)
    accuracy = np.where(
        flag == IMPRECISE, rng.integers(11, 41, n) * 50.0, rng.integers(5, 61, n).astype(float)
    )
    private = rng.random(n) < PRIVATE_SHARE
    by_user = np.lexsort((np.arange(n), user))  # too_soon: the previous one under an hour
    gap = at[by_user][1:] - at[by_user][:-1]
    soon = (user[by_user][1:] == user[by_user][:-1]) & (gap < 3600)
    soon_gap = dict(zip(by_user[1:][soon].tolist(), gap[soon].tolist(), strict=True))
    locations, distances = {}, {}
    for row in np.flatnonzero(flag == TOO_FAR).tolist():
        distance = float(rng.uniform(250, 2500))
        moved = Geodesic.WGS84.Direct(lat, lon, float(rng.uniform(0, 360)), distance)
        locations[row] = f"SRID=4326;POINT({moved['lon2']:.7f} {moved['lat2']:.7f})"
        distances[row] = distance
    reasons = {}
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
    return {"user": user, "at": at, "accuracy": accuracy, "private": private,
            "eligible": eligible, "reasons": reasons, "locations": locations}  # fmt: skip


def busy_extra(busy: int, seed: int, found: dict):
    """Make ``seed_history``'s ``extra``; ``found`` receives the venue, owner, staff, mix."""

    def make(user_ids, venue_ids, lat, lon) -> dict:
        index = int(np.argmin((lat - TIMES_SQUARE[0]) ** 2 + ((lon - TIMES_SQUARE[1]) * 0.76) ** 2))
        rng = np.random.default_rng(seed)
        roles, user, at = _plan(rng, busy, len(user_ids), int(time.time()))
        rows = _finish(rng, user, at, float(lat[index]), float(lon[index]))
        found.update(busy_venue_id=int(venue_ids[index]), owner_id=int(user_ids[roles["owner"]]))
        found["staff_ids"] = [int(user_ids[i]) for i in roles["staff"]]
        found.update({key: len(roles[key]) for key in ("regulars", "occasional", "once")})
        found.update(busy_checkins=len(rows["at"]), busy_ineligible=int((~rows["eligible"]).sum()))
        return {**rows, "venue": np.full(len(rows["at"]), index, dtype=np.int64)}

    return make


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
