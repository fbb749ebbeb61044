"""Events over the year centred on now at random bench venues (README)."""

import random
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import psycopg

from bench.harness.database import Laps, bulk, clear_references
from bench.harness.seed.venues import SOURCE, TIMEZONE

HANDLE_PREFIX = "bench_evt_"
ORGANISED = r"organiser_id IN (SELECT id FROM users WHERE handle LIKE 'bench\_evt\_%')"
YEAR_DAYS = 365
RECENTRE_AFTER = timedelta(days=30)  # re-seed when the seeded year drifted this far
CONFERENCE_SHARE = 0.03


def _organisers(conn: psycopg.Connection, count: int) -> list[int]:
    """Make sure ``count`` organisers ``bench_evt_0..`` exist (no login); their ids."""
    handles = [f"{HANDLE_PREFIX}{n}" for n in range(count)]
    # the missing ones only: on Citus no unique index on users stops a second insert
    query = "SELECT lower(handle) FROM users WHERE lower(handle) = ANY(%s)"
    there = {row[0] for row in conn.execute(query, (handles,))}
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO users (handle, email, display_name, password_hash)"
            " VALUES (%s, %s, %s, '!')",
            [
                (h, f"{h}@example.com", f"Bench organiser {n}")
                for n, h in enumerate(handles)
                if h not in there
            ],
        )
    rows = conn.execute(
        "SELECT id FROM users WHERE lower(handle) = ANY(%s) ORDER BY id", (handles,)
    )
    return [row[0] for row in rows]


def _rows(venue_ids: list[int], organiser_ids: list[int], count: int, now: datetime) -> list:
    """Draw ``count`` fixed-seed events in start order, mostly evenings, some conferences."""
    rng, tz = random.Random(11), ZoneInfo(TIMEZONE)
    first_day = (now.astimezone(tz) - timedelta(days=YEAR_DAYS / 2)).date()
    events = []
    for _ in range(count):
        day = first_day + timedelta(days=rng.randrange(YEAR_DAYS))
        minute = round(rng.triangular(7 * 60, 23 * 60, 19 * 60) / 15) * 15
        starts = datetime.combine(day, clock_time(0), tzinfo=tz) + timedelta(minutes=minute)
        if rng.random() < CONFERENCE_SHARE:
            length = timedelta(days=rng.randint(1, 3))
        else:
            length = timedelta(minutes=15 * rng.randint(4, 32))
        venue = venue_ids[rng.randrange(len(venue_ids))]
        events.append((starts.astimezone(UTC), length, venue, rng.choice(organiser_ids)))
    events.sort(key=lambda row: row[0])
    return [(n, v, o, at, at + length) for n, (at, length, v, o) in enumerate(events, 1)]


def seed_events(conn: psycopg.Connection, count: int, organisers: int) -> dict | None:
    """COPY ``count`` bench events in; None when their year is still centred on now."""
    now = datetime.now(UTC)
    organiser_ids = _organisers(conn, organisers)
    query = f"SELECT count(*), min(starts_at), max(starts_at) FROM events WHERE {ORGANISED}"
    have, first, last = conn.execute(query).fetchone()
    if have == count and first and abs(first + (last - first) / 2 - now) < RECENTRE_AFTER:
        return None
    laps = Laps()
    with conn.transaction():
        bulk(conn)
        # Citus: the reference table's delete after the RSVPs' on one connection per node
        conn.execute("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")
        conn.execute(
            "CREATE TEMP TABLE bench_evt_doomed ON COMMIT DROP AS SELECT id FROM events"
            f" WHERE {ORGANISED}"
        )
        clear_references(conn, "events", "SELECT id FROM bench_evt_doomed")
        conn.execute("DELETE FROM events WHERE id IN (SELECT id FROM bench_evt_doomed)")
    laps("drop_old_s")
    venue_ids = conn.execute(
        "SELECT id FROM venues WHERE source = %s AND deleted_at IS NULL ORDER BY id", (SOURCE,)
    ).fetchall()
    if not venue_ids:
        raise RuntimeError("no bench venues to hold events")
    rows = _rows([row[0] for row in venue_ids], organiser_ids, count, now)
    with conn.transaction():
        bulk(conn)
        conn.execute(
            "CREATE TEMP TABLE bench_evt_staging (n int, venue_id bigint, organiser_id bigint,"
            " starts_at timestamptz, ends_at timestamptz) ON COMMIT DROP"
        )
        with conn.cursor().copy("COPY bench_evt_staging FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        # location = the venue's, as the service's create does; period is generated
        conn.execute(
            "INSERT INTO events (venue_id, organiser_id, title, tags, starts_at, ends_at,"
            " location) SELECT s.venue_id, s.organiser_id, 'Bench event ' || s.n, '{}',"
            " s.starts_at, s.ends_at, v.location"
            " FROM bench_evt_staging s JOIN venues v ON v.id = s.venue_id ORDER BY s.n"
        )
    laps("insert_s")
    # FULL: a re-seed's deleted rows would leave the heap and its GiST index twice their size
    conn.execute("VACUUM (FULL, ANALYZE) events")
    conn.execute("ANALYZE users")
    laps("vacuum_analyze_s")
    return laps.total(events=count, organisers=len(organiser_ids))
