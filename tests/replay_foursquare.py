"""Replay real Foursquare NYC check-ins through IRL's check-in logic and check the
meetings it finds against an independent oracle written in plain SQL.

Data: ``$IRL_DATA_DIR/foursquare_nyc`` (default ``../shared/data``): 37,489 check-ins of
1,001 users (local New York time, venue coordinates) and 1,755 friendships. Each
friendship becomes a mutual contact, each distinct coordinate a venue. Check-ins are
replayed in time order through ``service.checkins.service.check_in`` with the service
clock set to each check-in's time, one committed transaction each, as the API would.

The oracle never looks at the ``meetings`` table: from the stored check-ins and the raw
friendship file it lists every friend pair with eligible, public check-ins at most 2 h
apart at the same venue or venues at most 75 m apart. Both sides must name the same
pairs.

Run: ``.venv/bin/python -m tests.replay_foursquare [--limit N]`` (uses
``REPLAY_DATABASE_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/irl_replay``,
whose schema it rebuilds).
"""

import argparse
import csv
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text

from geo import sql as geosql
from geo.coords import LatLon
from service import clock, create_app
from service.checkins import service as checkins
from service.contacts import pairs
from service.database import db
from service.errors import RateLimited
from service.models import User, Venue
from service.rewards.policy import PointsPolicy

ROOT = Path(__file__).resolve().parents[1]
NEW_YORK = ZoneInfo("America/New_York")
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/irl_replay"

ORACLE = """
WITH friends AS (
    SELECT DISTINCT LEAST(a, b) AS low, GREATEST(a, b) AS high
    FROM (SELECT unnest(CAST(:sources AS bigint[])) AS a,
                 unnest(CAST(:targets AS bigint[])) AS b) edges
    WHERE a <> b
)
SELECT DISTINCT ul.id, uh.id
FROM friends f
JOIN users ul ON ul.handle = 'fsq_' || f.low
JOIN users uh ON uh.handle = 'fsq_' || f.high
JOIN checkins a ON a.user_id = ul.id AND a.eligible AND NOT a.private
JOIN checkins b ON b.user_id = uh.id AND b.eligible AND NOT b.private
JOIN venues va ON va.id = a.venue_id
JOIN venues vb ON vb.id = b.venue_id
WHERE abs(extract(epoch FROM a.effective_at - b.effective_at)) <= 7200
  AND (a.venue_id = b.venue_id OR ST_DWithin(va.location, vb.location, 75))
"""


def data_dir() -> Path:
    """The shared data directory."""
    return Path(os.environ.get("IRL_DATA_DIR", ROOT.parent / "shared" / "data"))


def read_data(limit: int | None):
    """``(checkins, friendships)`` from the Foursquare NYC slice, check-ins in time order."""
    folder = data_dir() / "foursquare_nyc"
    with (folder / "NewYork_trajectories_final.tsv").open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    checkins_ = sorted(
        (
            (
                datetime.fromisoformat(r["datetime"]).replace(tzinfo=NEW_YORK),
                int(r["uid"]),
                round(float(r["lat"]), 6),
                round(float(r["lng"]), 6),
            )
            for r in rows
        ),
        key=lambda row: (row[0], row[1]),
    )
    with (folder / "NewYork_social_graph_final.tsv").open() as handle:
        edges = [
            (int(r["Source"]), int(r["Target"])) for r in csv.DictReader(handle, delimiter="\t")
        ]
    return checkins_[:limit] if limit else checkins_, edges


def rebuild_schema(url: str) -> None:
    """Fresh database: drop everything, migrate to head."""
    subprocess.run([sys.executable, str(ROOT / "scripts" / "prepare_db.py"), url], check=True)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "alembic"), "upgrade", "head"],
        check=True,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def load_world(session, checkin_rows, edges) -> tuple[dict, dict]:
    """Users, mutual friendships and venues; returns ``(user ids, venue ids)``."""
    uids = sorted({row[1] for row in checkin_rows} | {u for edge in edges for u in edge})
    users = {
        uid: User(
            handle=f"fsq_{uid}",
            email=f"fsq_{uid}@replay.invalid",
            display_name=f"Foursquare {uid}",
            password_hash="!",
        )
        for uid in uids
    }
    session.add_all(users.values())
    points = sorted({(row[2], row[3]) for row in checkin_rows})
    venues = {
        point: Venue(
            name=f"Foursquare {point[0]:.5f},{point[1]:.5f}",
            category="Other",
            location=geosql.point(LatLon(*point)),
            radius_m=100,
            timezone="America/New_York",
            source="foursquare",
        )
        for point in points
    }
    session.add_all(venues.values())
    session.flush()
    friends: dict[int, set[int]] = {}
    for a, b in edges:
        friends.setdefault(a, set()).add(users[b].id)
        friends.setdefault(b, set()).add(users[a].id)
    for uid, others in sorted(friends.items()):
        pairs.follow(session, users[uid].id, sorted(others), via="app")
    session.commit()
    return {uid: user.id for uid, user in users.items()}, {
        point: venue.id for point, venue in venues.items()
    }


def replay(app, checkin_rows, user_ids, venue_ids) -> dict:
    """Every check-in through the service, one transaction each."""
    stats = {"stored": 0, "eligible": 0, "refused_rate_limit": 0, "meetings": 0}
    original = clock.now
    started = time.perf_counter()
    try:
        for at, uid, lat, lon in checkin_rows:
            clock.now = lambda at=at: at.astimezone(ZoneInfo("UTC"))
            with app.app_context():
                session = db.session
                user = session.get(User, user_ids[uid])
                try:
                    result = checkins.check_in(
                        db_session=session,
                        user=user,
                        policy=PointsPolicy.from_config(app.config),
                        checkins_per_hour=app.config["CHECKINS_PER_HOUR"],
                        venue_id=venue_ids[(lat, lon)],
                        location={"lat": lat, "lon": lon},
                    )
                except RateLimited:
                    stats["refused_rate_limit"] += 1
                    session.rollback()
                    continue
                session.commit()
            stats["stored"] += 1
            stats["eligible"] += result["rewards"]["eligible"]
            stats["meetings"] += len(result["meetings"])
    finally:
        clock.now = original
    stats["seconds"] = time.perf_counter() - started
    return stats


def service_pairs(session) -> set[tuple[int, int]]:
    """Pairs the service says met (from its meetings table)."""
    rows = session.execute(
        text("SELECT DISTINCT user_id, other_id FROM meetings WHERE user_id < other_id")
    )
    return {tuple(row) for row in rows}


def oracle_pairs(session, edges) -> set[tuple[int, int]]:
    """Pairs that met by PRODUCT.md's definition, computed independently in SQL."""
    rows = session.execute(
        text(ORACLE), {"sources": [a for a, _ in edges], "targets": [b for _, b in edges]}
    )
    return {tuple(row) for row in rows}


def run(url: str, limit: int | None) -> dict:
    """Rebuild, load, replay, compare; return the figures."""
    checkin_rows, edges = read_data(limit)
    rebuild_schema(url)
    app = create_app({"DATABASE_URL": url, "JWT_SECRET_KEY": "replay-" + "x" * 40})
    with app.app_context():
        user_ids, venue_ids = load_world(db.session, checkin_rows, edges)
    stats = replay(app, checkin_rows, user_ids, venue_ids)
    with app.app_context():
        found, expected = service_pairs(db.session), oracle_pairs(db.session, edges)
        meetings = db.session.execute(text("SELECT count(*) FROM meetings")).scalar() // 2
    db.state(app).engine.dispose()
    return {
        **stats,
        "checkins": len(checkin_rows),
        "users": len(user_ids),
        "venues": len(venue_ids),
        "friendships": len(edges),
        "meeting_rows": meetings,
        "service_pairs": len(found),
        "oracle_pairs": len(expected),
        "only_service": sorted(found - expected),
        "only_oracle": sorted(expected - found),
    }


def main() -> int:
    """Print the replay's figures; exit 1 if the service and the oracle disagree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="replay only the first N")
    parser.add_argument("--database", default=os.environ.get("REPLAY_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args()
    figures = run(args.database, args.limit)
    rate = figures["stored"] / figures["seconds"]
    print(
        f"replayed {figures['checkins']} check-ins of {figures['users']} users at "
        f"{figures['venues']} venues ({figures['friendships']} friendships) in "
        f"{figures['seconds']:.1f} s = {rate:.0f} check-ins/s"
    )
    print(
        f"stored {figures['stored']}, eligible {figures['eligible']}, refused by the "
        f"30/h limit {figures['refused_rate_limit']}"
    )
    print(
        f"meetings found {figures['meeting_rows']} ({figures['service_pairs']} pairs); "
        f"oracle pairs {figures['oracle_pairs']}"
    )
    agree = not figures["only_service"] and not figures["only_oracle"]
    print(
        "AGREE"
        if agree
        else f"DISAGREE: only service {figures['only_service'][:10]}, "
        f"only oracle {figures['only_oracle'][:10]}"
    )
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
