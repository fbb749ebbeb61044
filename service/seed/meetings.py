"""Find the meetings of a bulk-loaded history as ``meetings.detect`` finds them live:
the candidates of every check-in in one statement (mutual contacts sharing, both
check-ins eligible and shown, two hours apart, the same or a nearby venue or event:
``geo.meetings``' own filters), then each check-in in arrival order tries its
contacts' nearest in time first, a pair meeting once per venue and day."""

from datetime import date, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Table,
    any_,
    bindparam,
    func,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import BindParameter

from geo.meetings import same_place, same_time
from service.models import Meeting, Relationship, User, Venue
from service.models.meeting import MEETING_ID
from service.presence import visibility
from service.rewards.setbased.write import copy_rows, scratch

CONTACTS = Table(
    "seed_contacts",
    MetaData(),
    Column("user_id", BigInteger),
    Column("other_id", BigInteger),
    Index("seed_contacts_user", "user_id"),
    prefixes=["TEMPORARY"],
)
MET = Table(
    "seed_met",
    MetaData(),
    Column("user_id", BigInteger),
    Column("other_id", BigInteger),
    Column("meetings", Integer),
    Column("first", DateTime(timezone=True)),
    prefixes=["TEMPORARY"],
)


def _contacts(db_session: Session, staged: Table) -> Table:
    """The staged people's mutual contacts among them, both sharing, as a scratch table of
    pairs read by person id (``= ANY``): the candidates then read only scratch tables and
    the venues (Citus refuses a lateral over a scratch table correlated with a
    distributed one, and the contact's row lives on another shard than the person's)."""
    people = db_session.scalars(select(staged.c.user_id).distinct()).all()
    sharing_people = select(User.id).where(User.id == any_(_ids(people)), visibility.sharing())
    sharing = set(db_session.scalars(sharing_people))
    pairs = db_session.execute(
        select(Relationship.user_id, Relationship.other_id).where(
            Relationship.user_id == any_(_ids(sharing)), Relationship.mutual
        )
    )
    return scratch(db_session, CONTACTS, [pair for pair in pairs if pair.other_id in sharing])


def _ids(ids) -> BindParameter:
    return bindparam(None, sorted(ids), type_=ARRAY(BigInteger))


def _candidates(db_session: Session, staged: Table):
    """Pairs of loaded check-ins of contacts that may meet, the later-arriving first:
    per arrival, per contact, nearest in time, then by id (as ``detect`` tries them).
    Each contact's check-ins in the window come from their own index (a fenced lateral,
    as ``detect`` reads them): a hash join on the person alone compared 15 M pairs."""
    contacts = _contacts(db_session, staged)
    here, there = aliased(Venue), aliased(Venue)
    mine_rows, their_rows = staged.alias("mine"), staged.alias("their")
    mine, their = mine_rows.c, their_rows.c
    theirs = (
        select(
            their.user_id,
            their.id,
            their.venue_id,
            their.effective_at,
            their.created_at,
            their.event_id,
        )
        .where(
            their.user_id == contacts.c.other_id,
            visibility.acting(their),
            same_time(their.effective_at, mine.effective_at),
            tuple_(their.created_at, their.id) < tuple_(mine.created_at, mine.id),
        )
        .offset(0)
        .lateral("theirs")
    )
    gap = func.abs(func.extract("epoch", theirs.c.effective_at - mine.effective_at))
    return db_session.execute(
        select(
            mine.user_id,
            mine.id,
            mine.venue_id,
            mine.effective_at,
            mine.event_id,
            mine.created_at,
            here.timezone,
            theirs.c.user_id.label("other_user"),
            theirs.c.id.label("other_id"),
            theirs.c.venue_id.label("other_venue"),
            theirs.c.effective_at.label("other_at"),
            theirs.c.event_id.label("other_event"),
            there.timezone.label("other_zone"),
        )
        .select_from(mine_rows)
        .join(contacts, contacts.c.user_id == mine.user_id)
        .join(theirs, true())
        .join(here, here.id == mine.venue_id)
        .join(there, there.id == theirs.c.venue_id)
        .where(
            visibility.acting(mine),
            same_place(
                there.id,
                there.location,
                venue_id=here.id,
                venue_location=here.location,
                event_column=theirs.c.event_id,
                event_id=mine.event_id,
            ),
        )
        .order_by(mine.created_at, mine.id, theirs.c.user_id, gap, theirs.c.id)
    ).all()


class Found(NamedTuple):
    """A meeting chosen: the candidate row, the meeting venue, its local day, when."""

    row: object
    venue: int
    day: date
    met_at: datetime


def _meetings(candidates) -> list[Found]:
    """``detect``'s choices: for each arrival, per contact, the first candidate whose
    (pair, meeting venue, local day) is still free."""
    taken: set[tuple] = set()
    found, arrival, met = [], None, set()
    for row in candidates:
        if (row.user_id, row.id) != arrival:
            arrival, met, tried = (row.user_id, row.id), set(), set()
        if row.other_user in met:
            continue
        mine_first = (row.effective_at, row.id) < (row.other_at, row.other_id)
        venue = row.venue_id if mine_first else row.other_venue
        zone = ZoneInfo(row.timezone if mine_first else row.other_zone)
        met_at: datetime = max(row.effective_at, row.other_at)
        day = met_at.astimezone(zone).date()
        pair = (min(row.user_id, row.other_user), max(row.user_id, row.other_user))
        if (row.other_user, venue, day) in tried:
            continue
        tried.add((row.other_user, venue, day))
        if (pair, venue, day) in taken:
            continue
        taken.add((pair, venue, day))
        met.add(row.other_user)
        found.append(Found(row, venue, day, met_at))
    return found


def detect(*, db_session: Session, staged: Table, progress) -> int:
    """Record the meetings among the staged check-ins (both rows of each, found when the
    later one arrived) and count them on the pairs' relationships; how many. Which is a
    pair's first is the rewards' to decide."""
    found = _meetings(progress(_candidates(db_session, staged), "meetings"))
    ids = db_session.scalars(
        select(MEETING_ID.next_value()).select_from(func.generate_series(1, len(found)))
    ).all()
    rows = []
    for meeting_id, one in zip(ids, found, strict=True):
        row = one.row
        event = row.event_id if row.event_id == row.other_event else None
        shared = (meeting_id, one.venue, one.day, one.met_at, False, row.created_at, event)
        rows.append((row.user_id, row.other_user, row.venue_id, row.id, row.other_id, *shared))
        rows.append((row.other_user, row.user_id, row.other_venue, row.other_id, row.id, *shared))
    columns = ["user_id", "other_id", "venue_id", "checkin_id", "other_checkin_id", "id"]
    columns += ["meeting_venue_id", "local_day", "met_at", "first_time", "created_at", "event_id"]
    copy_rows(db_session, Meeting.__table__, columns, rows)
    _count_on_relationships(db_session, found)
    return len(found)


def _count_on_relationships(db_session: Session, found: list[Found]) -> None:
    """``met_in_person``, ``meetings`` and ``first_met_at`` of the pairs that met (each
    direction of a pair counts each meeting)."""
    pairs: dict[tuple[int, int], list] = {}
    for one in found:
        for pair in ((one.row.user_id, one.row.other_user), (one.row.other_user, one.row.user_id)):
            count, first = pairs.get(pair, (0, one.met_at))
            pairs[pair] = (count + 1, min(first, one.met_at))
    met = scratch(db_session, MET, [(*pair, *value) for pair, value in pairs.items()])
    db_session.execute(
        update(Relationship)
        .where(Relationship.user_id == met.c.user_id, Relationship.other_id == met.c.other_id)
        .values(
            met_in_person=True,
            meetings=Relationship.meetings + met.c.meetings,
            first_met_at=func.least(
                func.coalesce(Relationship.first_met_at, met.c.first), met.c.first
            ),
        )
    )
