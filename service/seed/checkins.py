"""Load a history's check-ins in bulk, judged by the live eligibility rules: COPY into a
scratch table, measure every check-in in one set-based statement (what
``checkins.measure`` reads for one: the distance to the venue, the previous check-in,
the last one at the same venue, the other venues within the hour), judge each with
``checkins.eligibility.reasons``, and stage them with their ids (``store`` stores them;
the meetings are found among the staged ones)."""

import json
from dataclasses import dataclass

from geoalchemy2 import Geography
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    MetaData,
    Table,
    cast,
    false,
    func,
    insert,
    null,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, aliased

from geo import sql as geosql
from geo.rules import PLACES_WINDOW
from service.checkins import eligibility
from service.checkins.measure import Measures
from service.models import Checkin, Venue
from service.rewards.setbased.write import scratch
from service.seed.history import Past
from service.seed.people import People

SCRATCH = MetaData()
VISITS = Table(
    "seed_visits",
    SCRATCH,
    Column("seq", BigInteger),
    Column("id", BigInteger),
    Column("user_id", BigInteger),
    Column("venue_id", BigInteger),
    Column("at", DateTime(timezone=True)),
    Column("lat", Float),
    Column("lon", Float),
    Index("seed_visits_user_at", "user_id", "at"),
    prefixes=["TEMPORARY"],
)
JUDGED = Table(
    "seed_judged",
    SCRATCH,
    Column("seq", BigInteger),
    Column("eligible", Boolean),
    Column("reasons", JSONB),
    prefixes=["TEMPORARY"],
)
# the judged check-ins with their ids, as ``checkins`` holds them (the meetings are found
# among these)
STAGED = Table(
    "seed_checkins",
    SCRATCH,
    Column("user_id", BigInteger),
    Column("id", BigInteger),
    Column("venue_id", BigInteger),
    Column("location", Geography("POINT", srid=4326, spatial_index=False)),
    Column("effective_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True)),
    Column("local_day", Date),
    Column("event_id", BigInteger),
    Column("private", Boolean),
    Column("shared", Boolean),
    Column("eligible", Boolean),
    Column("reasons", JSONB),
    Index("seed_checkins_user_at", "user_id", "effective_at"),
    prefixes=["TEMPORARY"],
)
STORED = [column.name for column in STAGED.columns]


@dataclass(frozen=True)
class Loaded:
    """How many check-ins were judged, how many earn rewards."""

    checkins: int
    eligible: int


def _measured(db_session: Session):
    """Every visit with its measures, in arrival order (one statement)."""
    here = geosql.point_of(VISITS.c.lat, VISITS.c.lon)
    mine = {"partition_by": VISITS.c.user_id, "order_by": (VISITS.c.at, VISITS.c.seq)}
    same_venue = {
        "partition_by": (VISITS.c.user_id, VISITS.c.venue_id),
        "order_by": (VISITS.c.at, VISITS.c.seq),
    }
    ordered = select(
        VISITS.c.seq,
        VISITS.c.user_id,
        VISITS.c.venue_id,
        VISITS.c.at,
        here.label("here"),
        func.lag(here).over(**mine).label("previous_here"),
        func.lag(VISITS.c.at).over(**mine).label("previous_at"),
        func.lag(VISITS.c.at).over(**same_venue).label("same_venue_at"),
    ).subquery()
    earlier = aliased(VISITS)
    other_venues = (
        select(func.count(earlier.c.venue_id.distinct()))
        .where(
            earlier.c.user_id == ordered.c.user_id,
            earlier.c.seq < ordered.c.seq,  # the ones stored before it
            earlier.c.venue_id != ordered.c.venue_id,
            earlier.c.at > ordered.c.at - PLACES_WINDOW,
            earlier.c.at < ordered.c.at + PLACES_WINDOW,
        )
        .scalar_subquery()
    )
    return db_session.execute(
        select(
            ordered.c.seq,
            ordered.c.at,
            Venue.radius_m,
            geosql.distance_m(Venue.location, ordered.c.here).label("venue_distance_m"),
            ordered.c.previous_at,
            geosql.distance_m(ordered.c.previous_here, ordered.c.here).label("previous_m"),
            ordered.c.same_venue_at,
            other_venues.label("other_venues"),
        )
        .join(Venue, Venue.id == ordered.c.venue_id)
        .order_by(ordered.c.seq)
    )


def _judged(rows) -> list[tuple[int, bool, str]]:
    """``eligibility.reasons`` of each measured visit (no accuracy: the data has none)."""
    judged = []
    for row in rows:
        measures = Measures(
            venue_distance_m=float(row.venue_distance_m),
            previous_distance_m=None if row.previous_at is None else float(row.previous_m),
            previous_at=row.previous_at,
            nearest_same_venue_at=row.same_venue_at,
            other_venues_in_window=int(row.other_venues),
        )
        broken = eligibility.reasons(
            measures=measures, radius_m=row.radius_m, accuracy_m=None, at=row.at
        )
        judged.append((row.seq, not broken, [reason.as_dict() for reason in broken]))
    return judged


def load(
    *, db_session: Session, past: Past, people: People, venues: dict[str, int], progress
) -> Loaded:
    """Judge the history's check-ins, as made at their (shifted) times, and stage them
    with their ids (``store`` stores them)."""
    next_id = func.nextval(func.pg_get_serial_sequence(Checkin.__tablename__, "id"))
    ids = sorted(
        db_session.scalars(
            select(next_id).select_from(func.generate_series(1, len(past.visits)))
        ).all()
    )  # taken from the sequence, in arrival order: ties in time arrive by id
    rows = [
        (
            seq,
            checkin_id,
            people.ids[visit.person],
            venues[visit.spot],
            visit.at,
            visit.position.lat,
            visit.position.lon,
        )
        for seq, (checkin_id, visit) in enumerate(zip(ids, past.visits, strict=True))
    ]
    scratch(db_session, VISITS, progress(rows, "check-ins"))
    db_session.execute(text("ANALYZE seed_visits"))  # a scratch table has no statistics
    judged = _judged(progress(_measured(db_session), "eligibility", total=len(rows)))
    scratch(db_session, JUDGED, ((seq, ok, json.dumps(reasons)) for seq, ok, reasons in judged))
    STAGED.create(db_session.connection(), checkfirst=True)
    db_session.execute(STAGED.delete())
    db_session.execute(
        insert(STAGED).from_select(
            STORED,
            select(
                VISITS.c.user_id,
                VISITS.c.id,
                VISITS.c.venue_id,
                geosql.point_of(VISITS.c.lat, VISITS.c.lon),
                VISITS.c.at,
                VISITS.c.at,
                cast(func.timezone(Venue.timezone, VISITS.c.at), Date),
                null(),
                false(),
                true(),
                JUDGED.c.eligible,
                JUDGED.c.reasons,
            )
            .join(JUDGED, JUDGED.c.seq == VISITS.c.seq)
            .join(Venue, Venue.id == VISITS.c.venue_id)
            .order_by(VISITS.c.seq),
        )
    )
    db_session.execute(text("ANALYZE seed_checkins"))
    return Loaded(len(rows), sum(1 for _, ok, _ in judged if ok))


def store(*, db_session: Session) -> None:
    """Store the staged check-ins (their points are the rewards' to set)."""
    db_session.execute(
        insert(Checkin).from_select(
            STORED, select(*STAGED.columns).order_by(STAGED.c.user_id, STAGED.c.id)
        )
    )
