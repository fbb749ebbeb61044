"""The check-ins ``scale.py`` POSTs, and what the database says they did.

Each item is a different user (none checked in over the last 3 hours but for the recent
check-ins every user has), so the 30-an-hour limit and ``too_soon`` never interfere:
``--meet-share`` of them check in at the venue of a contact's public recent check-in
made in the last 90 minutes (meeting detection finds it, and the meeting is recorded),
the others as ``checkin_throughput`` does — at a favourite venue (80 %, the first ones
most often) or another of the 40 nearest home — never at one of their own recent
venues. The phone is ~8 m from the venue's point, ``accuracy_m`` 20: every check-in
must be eligible, and ``effects`` counts any that is not.
"""

import json
import random

import psycopg
import scale_recent
from checkin_throughput import FAVOURITE_SHARE, near

ACCURACY_M = 20.0
WORLD_USERS = r"ck\_u%"
MEET_SQL = f"""
SELECT DISTINCT ON (c.user_id) c.user_id, k.venue_id,
       ST_Y(v.location::geometry), ST_X(v.location::geometry)
FROM unnest(%(users)s::bigint[]) AS c (user_id)
JOIN users u ON u.id = c.user_id AND u.location_sharing <> 'off'
JOIN relationships r ON r.user_id = c.user_id AND r.mutual
JOIN users o ON o.id = r.other_id AND o.location_sharing <> 'off'
JOIN {scale_recent.IDS} ri ON ri.user_id = r.other_id
JOIN checkins k ON k.user_id = ri.user_id AND k.id = ri.id
JOIN venues v ON v.id = k.venue_id
WHERE NOT k.private AND k.effective_at > now() - interval '90 minutes'
  AND k.venue_id NOT IN (SELECT p.venue_id FROM {scale_recent.PLAN} p
                         WHERE p.user_id = c.user_id)
ORDER BY c.user_id, md5(k.id::text)
"""


def fresh_users(conn: psycopg.Connection, history_max_id: int, rng: random.Random) -> list[int]:
    """The world's users that may check in now, shuffled."""
    active = scale_recent.recently_active(conn, history_max_id)
    rows = conn.execute("SELECT id FROM users WHERE handle LIKE %s", (WORLD_USERS,)).fetchall()
    users = [row[0] for row in rows if row[0] not in active]
    rng.shuffle(users)
    return users


def deal(conn: psycopg.Connection, users: list[int], meet_share: float, rng) -> list[tuple]:
    """``(user_id, body)`` for each of ``users``, in random order; a meeting share first."""
    meet_count = round(len(users) * meet_share)
    meets = {
        row[0]: row[1:] for row in conn.execute(MEET_SQL, {"users": users[:meet_count]}).fetchall()
    }
    others = [user for user in users if user not in meets]
    jobs = [(user, *where, "meet") for user, where in meets.items()]
    jobs += [(user, *where, "usual") for user, where in _usual_venues(conn, others, rng).items()]
    rng.shuffle(jobs)
    return [(user, _body(venue, lat, lon, rng), kind) for user, venue, lat, lon, kind in jobs]


def _usual_venues(conn: psycopg.Connection, users: list[int], rng) -> dict[int, tuple]:
    """A favourite or nearby venue for each user, none of their recent ones."""
    plans = conn.execute(
        "SELECT p.user_id, p.favourites, p.nearby, coalesce(r.venues, '{}')"
        " FROM bench_checkins_plan p LEFT JOIN (SELECT user_id, array_agg(venue_id) AS venues"
        f"  FROM {scale_recent.PLAN} WHERE user_id = ANY(%(u)s) GROUP BY 1) r"
        "  ON r.user_id = p.user_id WHERE p.user_id = ANY(%(u)s)",
        {"u": users},
    ).fetchall()
    picked = {}
    for user_id, favourites, nearby, recent in plans:
        taken = set(recent)
        favourites = [v for v in favourites if v not in taken]
        nearby = [v for v in nearby if v not in taken]
        if favourites and rng.random() < FAVOURITE_SHARE:
            picked[user_id] = favourites[int(rng.random() ** 2 * len(favourites))]
        elif nearby:
            picked[user_id] = rng.choice(nearby)
    coords = {
        row[0]: (row[1], row[2])
        for row in conn.execute(
            "SELECT id, ST_Y(location::geometry), ST_X(location::geometry) FROM venues"
            " WHERE id = ANY(%s)",
            (list(set(picked.values())),),
        )
    }
    return {user: (venue, *coords[venue]) for user, venue in picked.items()}


def _body(venue_id: int, lat: float, lon: float, rng: random.Random) -> str:
    lat, lon = near(lat, lon, rng)
    location = {"lat": lat, "lon": lon}
    return json.dumps({"venue_id": venue_id, "location": location, "accuracy_m": ACCURACY_M})


def marker(conn: psycopg.Connection) -> tuple[int, object]:
    """Where the check-ins and the clock stand (the start of a phase)."""
    return conn.execute("SELECT coalesce(max(id), 0), now() FROM checkins").fetchone()


def effects(conn: psycopg.Connection, since: tuple[int, object]) -> dict:
    """What the check-ins stored since ``since`` did: eligible or not (and why), points,
    meetings, badges, mayorships, notifications, rollup visits."""
    since_id, since_at = since
    row = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE eligible), coalesce(sum(points), 0),"
        " count(DISTINCT user_id) FROM checkins WHERE id > %s",
        (since_id,),
    ).fetchone()
    reasons = dict(
        conn.execute(
            "SELECT r->>'code', count(*) FROM checkins, jsonb_array_elements(reasons) r"
            " WHERE id > %s GROUP BY 1",
            (since_id,),
        ).fetchall()
    )
    kinds = dict(
        conn.execute(
            "SELECT kind, count(*) FROM notifications WHERE created_at >= %s GROUP BY 1",
            (since_at,),
        ).fetchall()
    )
    counts = conn.execute(
        "SELECT (SELECT count(*) FROM meetings WHERE created_at >= %(t)s),"
        " (SELECT count(*) FROM user_badges WHERE awarded_at >= %(t)s),"
        " (SELECT count(*) FROM mayorship_changes WHERE at >= %(t)s),"
        " (SELECT count(*) FROM points_ledger WHERE created_at >= %(t)s)",
        {"t": since_at},
    ).fetchone()
    return {
        "stored": row[0],
        "eligible": row[1],
        "ineligible": row[0] - row[1],
        "distinct_users": row[3],
        "points": int(row[2]),
        "ineligible_reasons": reasons,
        "meeting_rows": counts[0],
        "badges_awarded": counts[1],
        "mayorship_changes": counts[2],
        "ledger_lines": counts[3],
        "notifications": kinds,
    }
