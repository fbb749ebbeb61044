"""The demo city's history: Gowalla's New York check-ins and friendships (SNAP format)
from the data directory, read in place, or a generated stand-in of the same shape; moved
by a whole number of weeks so that its last week ends today (weekdays and times of day
stay as they were)."""

import gzip
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from geo.coords import LatLon

EVENTS = Path("gowalla_nyc") / "gowalla_events_nyc_bbox.tsv.gz"
FRIENDS = Path("gowalla_nyc") / "gowalla_friend_edges_nyc.tsv"
WEEK = timedelta(weeks=1)
# the stand-in: people with a few favourite places, eight weeks of them, friends in circles
GENERATED_PEOPLE = 120
GENERATED_WEEKS = 6
GENERATED_START = datetime(2020, 1, 6, tzinfo=UTC)  # a Monday: only the shape matters


class Visit(NamedTuple):
    """One check-in of the history: who (the data's user id), when, where they said
    they were, and at which spot (the venue's ``source_ref``)."""

    person: str
    at: datetime
    position: LatLon
    spot: str


@dataclass(frozen=True)
class Past:
    """The history to load: visits in time order, and friendships (each pair once)."""

    source: str
    visits: list[Visit]
    friendships: list[tuple[str, str]]


def _events(path: Path, spots: set[str]) -> Iterator[Visit]:
    """The SNAP rows (``user, time, lat, lon, location``) at known spots."""
    with gzip.open(path, "rt", encoding="utf-8") as rows:
        for line in rows:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 5 or parts[4] not in spots:
                continue
            at = datetime.fromisoformat(parts[1].replace("Z", "+00:00"))
            yield Visit(parts[0], at, LatLon(float(parts[2]), float(parts[3])), parts[4])


def _friendships(path: Path) -> list[tuple[str, str]]:
    """Each friendship of the edge list once (it lists both directions)."""
    pairs = set()
    with path.open(encoding="utf-8") as rows:
        next(rows, None)  # the header
        for line in rows:
            parts = line.split()
            if len(parts) == 2 and parts[0] != parts[1]:
                pairs.add((min(parts, key=int), max(parts, key=int)))
    return sorted(pairs)


def shifted(visits: list[Visit], now: datetime) -> list[Visit]:
    """The visits moved by whole weeks so the last one falls in the week before ``now``."""
    if not visits:
        return visits
    weeks = (now - max(visit.at for visit in visits)) // WEEK
    shift = WEEK * weeks
    return [Visit(v.person, v.at + shift, v.position, v.spot) for v in visits]


def gowalla(data_dir: Path, spots: set[str], now: datetime) -> Past | None:
    """The Gowalla slice at the seeded spots (None when the files are absent); a person's
    exact duplicates (same instant) kept once."""
    events, friends = data_dir / EVENTS, data_dir / FRIENDS
    if not (events.exists() and friends.exists()):
        return None
    unique = {(visit.person, visit.at): visit for visit in _events(events, spots)}
    visits = sorted(unique.values(), key=lambda v: (v.at, int(v.person), v.spot))
    people = {visit.person for visit in visits}
    pairs = [(a, b) for a, b in _friendships(friends) if a in people and b in people]
    return Past("gowalla", shifted(visits, now), pairs)


def generated(spots: dict[str, LatLon], now: datetime) -> Past:
    """A deterministic stand-in history over the seeded spots: each person has a few
    favourite places (shared within their circle of friends, so friends meet) and checks
    in once to four times a day, mostly in the daytime; and, as real people do, now and
    then from a few hundred metres off, twice in a row at one place, or in a burst of
    places within the hour (which the rules then refuse a reward)."""
    rng = random.Random(21)
    refs = sorted(spots, key=lambda ref: (len(ref), ref))
    circles = [rng.sample(refs, 6) for _ in range(GENERATED_PEOPLE // 8)]
    visits = []

    def visit(person: int, at: datetime, spot: str, off: float = 0.0002) -> None:
        where = LatLon(spots[spot].lat + rng.gauss(0, off), spots[spot].lon + rng.gauss(0, off))
        visits.append(Visit(str(person), at, where, spot))

    for person in range(GENERATED_PEOPLE):
        places = circles[person // 8] + rng.sample(refs, 4)
        for day in range(GENERATED_WEEKS * 7):
            start = GENERATED_START + timedelta(days=day, hours=rng.choice((12, 15, 20, 23)))
            for step in range(rng.choice((0, 1, 1, 2, 2, 3, 4))):
                at = start + timedelta(hours=3 * step, minutes=rng.randint(0, 90))
                spot = rng.choice(places)
                visit(person, at, spot, off=0.004 if rng.random() < 0.05 else 0.0002)
                if rng.random() < 0.05:
                    visit(person, at + timedelta(minutes=rng.randint(5, 50)), spot)
            if rng.random() < 0.03:
                for minutes in range(0, 60, 9):
                    visit(person, start - timedelta(hours=2, minutes=-minutes), rng.choice(refs))
    visits.sort(key=lambda v: (v.at, int(v.person), v.spot))
    pairs = sorted(
        {
            (str(min(a, b)), str(max(a, b)))
            for a in range(GENERATED_PEOPLE)
            for b in (a // 8 * 8 + rng.randrange(8), rng.randrange(GENERATED_PEOPLE))
            if a != b
        }
    )
    return Past("generated", shifted(visits, now), pairs)
