"""Prepare, migrate and seed the benchmark database, and build its geometry twin table.

Venues are clustered like a real city: the real New York Gowalla spots
(``$IRL_DATA_DIR/gowalla_nyc/gowalla_venues_nyc_spots_all.tsv``, default data dir
``../shared/data``) are cluster centres, each venue a gaussian jitter of 50-300 m around
one. Without the file, generated centres around Times Square stand in. The data is read
in place, never copied into the repository.
"""

import math
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
SPOTS = Path("gowalla_nyc") / "gowalla_venues_nyc_spots_all.tsv"
TIMES_SQUARE = (40.758, -73.9855)
GENERATED_CENTRES = 3000
METRES_PER_DEGREE = 111_320.0
SOURCE = "bench"
TIMEZONE = "America/New_York"
CATEGORIES = (
    "Coffee Shop",
    "Restaurant",
    "Bar",
    "Pizza",
    "Park",
    "Gallery",
    "Bookstore",
    "Gym",
    "Subway",
    "Office",
)


@dataclass(frozen=True)
class Centre:
    """A cluster centre: a named spot and how far its venues spread (metres, 1 sigma)."""

    name: str
    lat: float
    lon: float
    sigma_m: float


def libpq_conninfo(url: str) -> str:
    """A libpq URL for psycopg from a SQLAlchemy URL (drops the ``+psycopg`` driver)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def prepare_and_migrate(url: str) -> None:
    """Create the database with PostGIS, then build the schema with Alembic (only way)."""
    subprocess.run([sys.executable, "scripts/prepare_db.py", url], cwd=ROOT, check=True)
    env = {**os.environ, "DATABASE_URL": url}
    alembic = [sys.executable, "-m", "alembic", "upgrade", "head"]
    subprocess.run(alembic, cwd=ROOT, env=env, check=True)


def spots_path() -> Path:
    """Where the real Gowalla spot dump lives."""
    return Path(os.environ.get("IRL_DATA_DIR", ROOT.parent / "shared" / "data")) / SPOTS


def load_centres(seed: int = 42) -> tuple[list[Centre], str]:
    """Cluster centres and where they came from (the Gowalla file, or ``generated``)."""
    rng = random.Random(seed)
    path = spots_path()
    if path.exists():
        centres = [
            Centre(name, lat, lon, rng.uniform(50, 300)) for name, lat, lon in _read_spots(path)
        ]
        if centres:
            return centres, str(path)
    lat0, lon0 = TIMES_SQUARE
    centres = [
        Centre(
            f"Block {index}",
            lat0 + rng.gauss(0, 0.02),
            lon0 + rng.gauss(0, 0.025),
            rng.uniform(50, 300),
        )
        for index in range(GENERATED_CENTRES)
    ]
    return centres, "generated around Times Square"


def _read_spots(path: Path) -> Iterator[tuple[str, float, float]]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4 or not parts[1].strip():
                continue
            try:
                lat, lon = float(parts[2]), float(parts[3])
            except ValueError:
                continue
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                yield parts[1].strip()[:180], lat, lon


def jitter(rng: random.Random, centre: Centre, sigma_m: float) -> tuple[float, float]:
    """A gaussian point around ``centre`` with ``sigma_m`` metres spread (lat, lon)."""
    dlat = rng.gauss(0, sigma_m) / METRES_PER_DEGREE
    dlon = rng.gauss(0, sigma_m) / (METRES_PER_DEGREE * math.cos(math.radians(centre.lat)))
    return max(-90.0, min(90.0, centre.lat + dlat)), max(-180.0, min(180.0, centre.lon + dlon))


def bench_rows(centres: list[Centre], count: int, seed: int) -> Iterator[tuple]:
    """``count`` deterministic ``(name, category, lat, lon)`` rows around the centres."""
    rng = random.Random(seed)
    for index in range(count):
        centre = rng.choice(centres)
        lat, lon = jitter(rng, centre, centre.sigma_m)
        yield f"{centre.name} #{index}", CATEGORIES[index % len(CATEGORIES)], lat, lon


def seed_venues(
    conn: psycopg.Connection, count: int, centres: list[Centre], seed: int = 1
) -> dict | None:
    """COPY ``count`` bench venues in, then cluster them by place and ANALYZE; None when
    already there."""
    existing = conn.execute("SELECT count(*) FROM venues WHERE source = %s", (SOURCE,)).fetchone()
    if existing[0] >= count:
        return None
    started = time.perf_counter()
    if conn.execute("SELECT to_regclass('bench_social_users')").fetchone()[0]:
        import social_seeding  # the people of nearby_contacts.py check in at these venues

        social_seeding.drop_social(conn)
    with conn.transaction():
        conn.execute("SET LOCAL synchronous_commit = off")
        conn.execute("DELETE FROM venues WHERE source = %s", (SOURCE,))
        conn.execute(
            "CREATE TEMP TABLE bench_staging (name text, category text, lat float8, lon float8)"
            " ON COMMIT DROP"
        )
        with conn.cursor().copy("COPY bench_staging (name, category, lat, lon) FROM STDIN") as cp:
            for row in bench_rows(centres, count, seed):
                cp.write_row(row)
        copied = time.perf_counter()
        conn.execute(
            "INSERT INTO venues (name, category, location, timezone, source)"
            " SELECT name, category, ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography,"
            " %s, %s FROM bench_staging",
            (TIMEZONE, SOURCE),
        )
    inserted = time.perf_counter()
    conn.execute("SET maintenance_work_mem = '512MB'")
    cluster_by_place(conn)
    done = time.perf_counter()
    return {
        "venues": count,
        "copy_s": round(copied - started, 2),
        "insert_s": round(inserted - copied, 2),
        "cluster_analyze_s": round(done - inserted, 2),
        "total_s": round(done - started, 2),
        "rows_per_s": round(count / (inserted - started)),
    }


def cluster_by_place(conn: psycopg.Connection) -> None:
    """The service's own ``cluster-venues``: rows in geohash order, every index rebuilt
    from them (a CLUSTER on the GiST index itself left its pages overlapping: 120 pages
    per nearby query at 10 M venues against 21)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from service.venues.maintenance import CLUSTER_STATEMENTS

    for statement in CLUSTER_STATEMENTS:
        conn.execute(statement)


def clear_references(
    conn: psycopg.Connection, table: str, ids_sql: str, keep: tuple[str, ...] = ()
) -> None:
    """Delete every row that refers to one of ``ids_sql``'s rows of ``table`` through a
    single-column foreign key (``ON DELETE SET NULL`` keys are set to NULL instead), one
    set-based statement per key, in tables other than ``keep``.

    Keys come from the catalogue, so tables added by later migrations are covered. Meant
    for bulk removal with the foreign-key triggers off (``session_replication_role =
    replica``), where a cascading DELETE would run each key's action once per row (and
    scan the whole table for keys without an index). Rows that depend on a deleted row
    only through a composite key are not followed: callers pass ids every dependent row
    also names directly (a user id, say).
    """
    references = conn.execute(
        "SELECT c.conrelid::regclass::text, a.attname, c.confdeltype FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        " WHERE c.contype = 'f' AND c.confrelid = %s::regclass"
        " AND cardinality(c.conkey) = 1 ORDER BY 1, 2",
        (table,),
    ).fetchall()
    for referrer, column, action in references:
        if referrer in keep:
            continue
        if action == "n":  # ON DELETE SET NULL
            conn.execute(f"UPDATE {referrer} SET {column} = NULL WHERE {column} IN ({ids_sql})")
        else:
            conn.execute(f"DELETE FROM {referrer} WHERE {column} IN ({ids_sql})")


def ensure_geometry_table(conn: psycopg.Connection) -> float | None:
    """(Re)build ``bench_venues_geom`` as a geometry copy of venues; seconds, or None if fresh.

    It keeps every column the nearby query reads, so the geography/geometry comparison
    differs only in the spatial type, not in row width.
    """
    venues = conn.execute("SELECT count(*) FROM venues").fetchone()[0]
    if conn.execute("SELECT to_regclass('bench_venues_geom')").fetchone()[0]:
        copied = conn.execute("SELECT count(*) FROM bench_venues_geom").fetchone()[0]
        if copied == venues:
            return None
    started = time.perf_counter()
    conn.execute("SET maintenance_work_mem = '512MB'")
    conn.execute("DROP TABLE IF EXISTS bench_venues_geom")
    conn.execute(
        "CREATE TABLE bench_venues_geom AS SELECT id, name, category, address, radius_m,"
        " timezone, owner_id, deleted_at, location::geometry(Point, 4326) AS geom FROM venues"
    )
    conn.execute("ALTER TABLE bench_venues_geom ADD PRIMARY KEY (id)")
    conn.execute("CREATE INDEX ix_bench_venues_geom ON bench_venues_geom USING gist (geom)")
    conn.execute("CLUSTER bench_venues_geom USING ix_bench_venues_geom")
    conn.execute("ANALYZE bench_venues_geom")
    return round(time.perf_counter() - started, 2)


def query_points(centres: list[Centre], count: int, seed: int = 7) -> list[tuple[float, float]]:
    """``count`` fixed-seed query positions near venue clusters (within ~300 m)."""
    rng = random.Random(seed)
    return [jitter(rng, rng.choice(centres), 300) for _ in range(count)]


def rebuild_last_seen(conn: psycopg.Connection) -> float:
    """``service.presence.seen.rebuild`` on ``conn``'s database: where every user was last
    seen, after check-ins were written around the service; seconds."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from service.presence import seen

    started = time.perf_counter()
    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(conn.info.dsn))
    try:
        with Session(engine) as session:
            seen.rebuild(session)
            session.commit()
    finally:
        engine.dispose()
    return round(time.perf_counter() - started, 2)
