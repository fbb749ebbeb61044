"""Seed the demo city: real New York venues from Gowalla, and a few demo users.

Venues come from ``gowalla_venues_nyc_spots_all.tsv`` under the data directory
(``IRL_DATA_DIR``, default ``../shared/data``); when the file is absent, a generated
city around Times Square stands in. Seeding is idempotent: venues are keyed by
``(source, source_ref)`` and a complete earlier seed is detected and skipped.
"""

import os
import random
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from tqdm import tqdm

from geo.cities import cities_of
from geo.coords import LatLon
from geo.errors import InvalidCoordinates
from geo.timezones import timezone_at
from service import clock
from service.auth import service as accounts
from service.contacts import pairs
from service.identities import verified
from service.models import Identity, User, Venue
from service.seed.categories import OTHER, guess, keyword_table

ROOT = Path(__file__).resolve().parents[2]
SPOTS = Path("gowalla_nyc") / "gowalla_venues_nyc_spots_all.tsv"
CATEGORY_TREE = Path("gowalla_categories") / "gowalla_category_structure.json"
GENERATED_VENUES = 2000
GENERATED_SOURCE = "generated"
TIMES_SQUARE = LatLon(40.758, -73.9855)

DEMO_PASSWORD = "irl-demo-pass"
DEMO_USERS = (
    ("alice", "Alice Example"),
    ("bob", "Bob Example"),
    ("carol", "Carol Example"),
    ("dave", "Dave Example"),
)
# Their online identities, verified (fictional accounts on reserved example domains), so a
# newcomer importing e.g. "irl_demo_alice" on Twitter finds Alice.
DEMO_IDENTITIES = {
    handle: {
        "twitter": f"irl_demo_{handle}",
        "mastodon": f"{handle}@social.irl.example",
        "bluesky": f"{handle}.irl-demo.example",
        "github": f"irl-demo-{handle}",
    }
    for handle, _ in DEMO_USERS
}


def data_dir() -> Path:
    """Where the shared real data lives."""
    return Path(os.environ.get("IRL_DATA_DIR", ROOT.parent / "shared" / "data"))


def why_generated() -> str:
    """Why the demo city is a generated one: where the real venues were looked for."""
    return (
        f"no venue data at {data_dir() / SPOTS}: seeded a generated stand-in city of "
        f"{GENERATED_VENUES} venues around Times Square, with a generated history, instead "
        f"(set IRL_DATA_DIR to the directory holding {SPOTS.parent}/ for the real New York "
        "venues and check-ins)"
    )


def read_spots(path: Path) -> Iterator[tuple[str, str, LatLon]]:
    """Yield ``(spot_id, name, position)`` for each well-formed row of the spot dump."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4 or not parts[1].strip():
                continue
            try:
                position = LatLon(float(parts[2]), float(parts[3]))
            except (ValueError, InvalidCoordinates):
                continue
            yield parts[0], parts[1].strip()[:200], position


def generated_spots(count: int = GENERATED_VENUES) -> Iterator[tuple[str, str, LatLon]]:
    """A deterministic stand-in city within ~5 km of Times Square."""
    rng = random.Random(42)
    kinds = ("Coffee Shop", "Pizza", "Bar", "Park", "Bookstore", "Gallery", "Subway")
    for index in range(count):
        kind = kinds[index % len(kinds)]
        position = LatLon(
            TIMES_SQUARE.lat + rng.gauss(0, 0.02), TIMES_SQUARE.lon + rng.gauss(0, 0.025)
        )
        yield f"gen-{index}", f"Demo {kind} {index}", position


def seed_venues(*, db_session: Session, progress: bool = True) -> tuple[str, int]:
    """Insert the demo venues that are missing, with their cities (as ``award.venue_city``
    would look them up: set here, the venues need no second write); return ``(source,
    inserted)``."""
    spots_path = data_dir() / SPOTS
    if spots_path.exists():
        source, rows = "gowalla", list(read_spots(spots_path))
        table = keyword_table(str(data_dir() / CATEGORY_TREE))
    else:
        source, rows = GENERATED_SOURCE, list(generated_spots())
        table = None
    existing = db_session.scalar(select(func.count()).where(Venue.source == source))
    if existing >= len(rows):
        return source, 0
    cities = cities_of([position for _, _, position in rows])
    raw = db_session.connection().connection.driver_connection
    with raw.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE seed_venues (ref text, name text, category text, "
            "lat float8, lon float8, tz text, city text) ON COMMIT DROP"
        )
        with cur.copy("COPY seed_venues FROM STDIN") as copy:
            for (ref, name, position), city in tqdm(
                zip(rows, cities, strict=True),
                desc=f"venues ({source})",
                unit="venue",
                total=len(rows),
                disable=not progress,
            ):
                category = guess(name, table) if table else name.split()[1]
                copy.write_row(
                    (
                        ref,
                        name,
                        category or OTHER,
                        position.lat,
                        position.lon,
                        timezone_at(position),
                        city,
                    )
                )
        cur.execute(
            "INSERT INTO venues (name, category, location, radius_m, timezone, source, "
            "source_ref, city) SELECT name, category, "
            "ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography, 100, tz, %s, ref, city "
            "FROM seed_venues ON CONFLICT (source, source_ref) WHERE source_ref IS NOT NULL "
            "DO NOTHING",
            (source,),
        )
        inserted = cur.rowcount
    return source, inserted


def seed_users(*, db_session: Session) -> list[str]:
    """Create the demo users that are missing, all mutual contacts of each other; return
    their handles."""
    ids = []
    for handle, display_name in DEMO_USERS:
        user_id = db_session.scalar(select(User.id).where(func.lower(User.handle) == handle))
        if user_id is None:
            user_id = accounts.register(
                db_session=db_session,
                handle=handle,
                email=f"{handle}@demo.irl.example",
                password=DEMO_PASSWORD,
                display_name=display_name,
            ).id
        ids.append(user_id)
    for user_id in ids:
        pairs.follow(db_session, user_id, [other for other in ids if other != user_id], via="app")
    _verified_identities(db_session, dict(zip((h for h, _ in DEMO_USERS), ids, strict=True)))
    return [handle for handle, _ in DEMO_USERS]


def _verified_identities(db_session: Session, ids: dict[str, int]) -> None:
    """Give each demo user their demo identities, verified (kept if already there)."""
    rows = [
        {
            "user_id": ids[user],
            "network": network,
            "handle": handle,
            "verified_at": clock.now(),
            "profile_name": dict(DEMO_USERS)[user],
        }
        for user, identities in DEMO_IDENTITIES.items()
        for network, handle in identities.items()
    ]
    db_session.execute(insert(Identity).values(rows).on_conflict_do_nothing())
    verified.record_all(db_session)
