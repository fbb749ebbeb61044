"""Venues clustered like New York, positions near them, and their geometry twin."""

import math
import os
import random
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench.harness.database import ROOT, Laps, cluster_by_place

SPOTS = Path("gowalla_nyc") / "gowalla_venues_nyc_spots_all.tsv"
TIMES_SQUARE = (40.758, -73.9855)
METRES_PER_DEGREE = 111_320.0
SOURCE = "bench"
TIMEZONE = "America/New_York"
CATEGORIES = ("Coffee Shop", "Restaurant", "Bar", "Pizza", "Park", "Gallery", "Bookstore")
CATEGORIES += ("Gym", "Subway", "Office")
GEOMETRY_TWIN = "bench_venues_geom"


@dataclass(frozen=True)
class Centre:
    """A cluster centre: a named spot and how far its venues spread (metres, 1 sigma)."""

    name: str
    lat: float
    lon: float
    sigma_m: float


def load_centres(seed: int = 42) -> tuple[list[Centre], str]:
    """Read the cluster centres; say where they came from (the file, or ``generated``)."""
    rng = random.Random(seed)
    path = Path(os.environ.get("IRL_DATA_DIR", ROOT.parent / "shared" / "data")) / SPOTS
    centres = []
    if path.exists():
        for line in path.open(encoding="utf-8", errors="replace"):
            parts = line.rstrip("\n").split("\t")
            try:
                lat, lon = float(parts[2]), float(parts[3])
            except (IndexError, ValueError):
                continue
            if len(parts) == 4 and parts[1].strip() and -90 <= lat <= 90 and -180 <= lon <= 180:
                centres.append(Centre(parts[1].strip()[:180], lat, lon, rng.uniform(50, 300)))
    if centres:
        return centres, str(path)
    lat0, lon0 = TIMES_SQUARE
    for n in range(3000):
        lat, lon = lat0 + rng.gauss(0, 0.02), lon0 + rng.gauss(0, 0.025)
        centres.append(Centre(f"Block {n}", lat, lon, rng.uniform(50, 300)))
    return centres, "generated around Times Square"


def jitter(rng: random.Random, centre: Centre, sigma_m: float) -> tuple[float, float]:
    """Draw a gaussian point ``sigma_m`` metres around ``centre``: ``(lat, lon)``."""
    dlat = rng.gauss(0, sigma_m) / METRES_PER_DEGREE
    dlon = rng.gauss(0, sigma_m) / (METRES_PER_DEGREE * math.cos(math.radians(centre.lat)))
    return max(-90.0, min(90.0, centre.lat + dlat)), max(-180.0, min(180.0, centre.lon + dlon))


def query_points(centres: list[Centre], count: int, seed: int = 7) -> list[tuple[float, float]]:
    """Draw ``count`` fixed-seed query positions near venue clusters (within ~300 m)."""
    rng = random.Random(seed)
    return [jitter(rng, rng.choice(centres), 300) for _ in range(count)]


def seed_venues(conn: psycopg.Connection, count: int, centres: list[Centre]) -> dict | None:
    """COPY ``count`` bench venues in, then cluster them by place; None when there."""
    existing = conn.execute("SELECT count(*) FROM venues WHERE source = %s", (SOURCE,)).fetchone()
    if existing[0] >= count:
        return None
    laps, rng = Laps(), random.Random(1)
    with conn.transaction():
        conn.execute("SET LOCAL synchronous_commit = off")
        conn.execute("DELETE FROM venues WHERE source = %s", (SOURCE,))
        conn.execute(
            "CREATE TEMP TABLE bench_staging (name text, category text, lat float8, lon float8)"
            " ON COMMIT DROP"
        )
        with conn.cursor().copy("COPY bench_staging (name, category, lat, lon) FROM STDIN") as cp:
            for index in range(count):
                centre = rng.choice(centres)
                lat, lon = jitter(rng, centre, centre.sigma_m)
                cp.write_row((f"{centre.name} #{index}", CATEGORIES[index % 10], lat, lon))
        laps("copy_s")
        conn.execute(
            "INSERT INTO venues (name, category, location, timezone, source)"
            " SELECT name, category, ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography,"
            " %s, %s FROM bench_staging",
            (TIMEZONE, SOURCE),
        )
    laps("insert_s")
    conn.execute("SET maintenance_work_mem = '512MB'")
    cluster_by_place(conn)
    laps("cluster_analyze_s")
    return laps.total(venues=count)


def ensure_geometry_twin(conn: psycopg.Connection) -> float | None:
    """(Re)build ``bench_venues_geom``, venues with a geometry column; seconds or None."""
    venues = conn.execute("SELECT count(*) FROM venues").fetchone()[0]
    there = conn.execute("SELECT to_regclass(%s)", (GEOMETRY_TWIN,)).fetchone()[0]
    if there and conn.execute(f"SELECT count(*) FROM {GEOMETRY_TWIN}").fetchone()[0] == venues:
        return None
    laps = Laps()
    conn.execute("SET maintenance_work_mem = '512MB'")
    conn.execute(f"DROP TABLE IF EXISTS {GEOMETRY_TWIN}")
    conn.execute(
        f"CREATE TABLE {GEOMETRY_TWIN} AS SELECT id, name, category, address, radius_m,"
        " timezone, owner_id, deleted_at, location::geometry(Point, 4326) AS geom FROM venues"
    )
    conn.execute(f"ALTER TABLE {GEOMETRY_TWIN} ADD PRIMARY KEY (id)")
    conn.execute(f"CREATE INDEX ix_{GEOMETRY_TWIN} ON {GEOMETRY_TWIN} USING gist (geom)")
    conn.execute(f"CLUSTER {GEOMETRY_TWIN} USING ix_{GEOMETRY_TWIN}")
    conn.execute(f"ANALYZE {GEOMETRY_TWIN}")
    return laps.total()["total_s"]
