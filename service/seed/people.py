"""The demo's people: one account per person of the history (``gw_<id>``, or ``gen_<id>``
for the stand-in), the named demo users taking the histories of its best-connected
people, and the history's friendships as mutual contacts; all with the demo password."""

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, MetaData, String, Table, func, literal, select, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.auth import names, passwords
from service.models import Follow, Relationship, User
from service.rewards.setbased.write import scratch
from service.seed.history import Past

SCRATCH = MetaData()
PEOPLE = Table(
    "seed_people",
    SCRATCH,
    Column("handle", String),
    Column("email", String),
    Column("display_name", String),
    prefixes=["TEMPORARY"],
)
PAIRS = Table(
    "seed_pairs",
    SCRATCH,
    Column("user_id", BigInteger),
    Column("other_id", BigInteger),
    prefixes=["TEMPORARY"],
)
EMAIL_DOMAIN = "people.demo.irl.example"
ZONE = "America/New_York"
MIN_VISITS = 50  # a named user's history should show something


@dataclass(frozen=True)
class People:
    """Whose account each person of the history is (the data's id -> user id)."""

    ids: dict[str, int]
    named: dict[str, str]  # named handle -> the data's id whose history they took


def prefix(source: str) -> str:
    """The handle prefix of a history's people."""
    return "gw" if source == "gowalla" else "gen"


def best_connected(past: Past, count: int) -> list[str]:
    """The people with the most friends (then the most visits) among those with at least
    ``MIN_VISITS`` visits: the named users take their histories."""
    visits = Counter(visit.person for visit in past.visits)
    friends = Counter(person for pair in past.friendships for person in pair)
    rich = [person for person, seen in visits.items() if seen >= MIN_VISITS] or list(visits)
    return sorted(rich, key=lambda p: (-friends[p], -visits[p], int(p)))[:count]


def create(
    *, db_session: Session, past: Past, named: dict[str, int], password: str, progress
) -> People:
    """The accounts of the history's people (existing ones kept), the named users standing
    in for the best-connected; one password hash for all (the password is public)."""
    stand_ins = dict(zip(named, best_connected(past, len(named)), strict=False))
    taken = set(stand_ins.values())
    people = sorted({visit.person for visit in past.visits} - taken, key=int)
    tag = prefix(past.source)
    rows = [
        (f"{tag}_{person}", f"{tag}_{person}@{EMAIL_DOMAIN}", f"{past.source.title()} {person}")
        for person in people
    ]
    scratch(db_session, PEOPLE, progress(rows, "people"))
    db_session.execute(
        insert(User)
        .from_select(
            ["handle", "email", "display_name", "password_hash", "last_timezone"],
            select(
                PEOPLE.c.handle,
                PEOPLE.c.email,
                PEOPLE.c.display_name,
                literal(passwords.hash_password(password)),
                literal(ZONE),
            ),
        )
        .on_conflict_do_nothing()
    )
    names.record_all(db_session)
    found = dict(
        db_session.execute(
            select(User.handle, User.id).where(User.handle.in_(select(PEOPLE.c.handle)))
        ).all()
    )
    ids = {person: found[handle] for person, (handle, _, _) in zip(people, rows, strict=True)}
    ids |= {person: named[handle] for handle, person in stand_ins.items()}
    return People(ids, {handle: person for handle, person in stand_ins.items()})


def befriend(*, db_session: Session, pairs: list[tuple[int, int]]) -> int:
    """Make each pair mutual contacts (a follow made in the app each way); how many pairs
    were not mutual before."""
    both = sorted({(a, b) for a, b in pairs if a != b} | {(b, a) for a, b in pairs if a != b})
    table = scratch(db_session, PAIRS, both)
    db_session.execute(
        insert(Follow)
        .from_select(
            ["follower_id", "followee_id", "via"],
            select(table.c.user_id, table.c.other_id, literal("app")),
        )
        .on_conflict_do_nothing()
    )
    before = db_session.scalar(
        select(func.count())
        .select_from(Relationship)
        .join(
            table,
            (Relationship.user_id == table.c.user_id) & (Relationship.other_id == table.c.other_id),
        )
        .where(Relationship.mutual)
    )
    rows = insert(Relationship).from_select(
        ["user_id", "other_id", "i_follow", "they_follow"],
        select(table.c.user_id, table.c.other_id, true(), true()),
    )
    # SQL constants, not parameters: Citus runs this INSERT ... SELECT from a scratch table
    # through the coordinator, and the worker's copy of it would lose a parameter's type
    db_session.execute(
        rows.on_conflict_do_update(
            index_elements=["user_id", "other_id"], set_={"i_follow": true(), "they_follow": true()}
        )
    )
    return (len(both) - before) // 2


def friendships(people: People, past: Past) -> list[tuple[int, int]]:
    """The history's friendships between accounts."""
    ids = people.ids
    return [(ids[a], ids[b]) for a, b in past.friendships if a in ids and b in ids]
