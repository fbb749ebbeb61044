"""Find the in-person meetings a new check-in completes (PRODUCT.md, Meetings).

Runs inside the check-in's transaction after the pair locks of the user's contacts were
taken (``contacts.pairs.lock_contact_pairs``), so of two contacts checking in at the same
instant the second always sees the first, including offline replays.
"""

from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, DateTime, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session, aliased

from geo.meetings import same_place, same_time
from service.common.people import person
from service.common.plans import planned_per_call
from service.meetings import first as first_meeting
from service.models import Checkin, Meeting, Relationship, User, Venue
from service.models.meeting import MEETING_ID
from service.notifications import messages, outbox
from service.presence import visibility
from service.rewards.ledger import Ledger
from service.rewards.policy import PointsPolicy


@lru_cache(maxsize=1)
def _candidates_statement():
    """The given contacts' (sharing on) eligible public check-ins at the same or a nearby
    venue or the same event within two hours of ``at``: per contact, nearest in time
    first, then by id; built once, with bound parameters.

    Driven from the contacts: their check-ins in the window through their own index,
    fenced (a MATERIALIZED CTE; on Citus, a subplan on their shards only), then their
    venues tested. Left to itself the planner started from every venue within 75 m and
    probed each one's check-ins: 740 probes and 5 ms in Midtown, against 50 cheap ones
    this way (an ``OFFSET 0`` subquery was rescanned once per venue)."""
    other_venue = aliased(Venue)
    at = bindparam("at", type_=DateTime(timezone=True))
    here = select(Venue.location).where(Venue.id == bindparam("venue_id")).scalar_subquery()
    theirs = (
        visibility.visible_checkins(
            bindparam("contacts", type_=ARRAY(BigInteger)),
            Checkin.user_id,
            Checkin.id,
            Checkin.venue_id,
            Checkin.event_id,
            Checkin.effective_at,
            User.handle,
            User.display_name,
            rule=visibility.acting,
        )
        .where(same_time(Checkin.effective_at, at))
        .cte("theirs")
        .prefix_with("MATERIALIZED")
    )
    gap = func.abs(func.extract("epoch", theirs.c.effective_at - at))
    return (
        select(theirs, other_venue.timezone, other_venue.name.label("venue_name"))
        .join(other_venue, other_venue.id == theirs.c.venue_id)
        .where(
            same_place(
                other_venue.id,
                other_venue.location,
                venue_id=bindparam("venue_id"),
                venue_location=here,
                event_column=theirs.c.event_id,
                event_id=bindparam("event_id"),
            )
        )
        .order_by(theirs.c.user_id, gap, theirs.c.id)
    )


def _candidates(db_session: Session, contacts: list[int], checkin: Checkin, venue: Venue):
    """The contacts' check-ins this one may meet: my mutual contacts (read on my side,
    when their pairs were locked), then their check-ins (theirs)."""
    if not contacts:
        return []
    return _contacts_checkins(db_session, contacts, checkin, venue)


@planned_per_call
def _contacts_checkins(db_session: Session, contacts: list[int], checkin: Checkin, venue: Venue):
    """``_candidates``' second statement (planned for these contacts: a generic plan was
    measured 10x slower)."""
    params = {
        "contacts": contacts,
        "venue_id": venue.id,
        "at": checkin.effective_at,
        "event_id": checkin.event_id,
    }
    return db_session.connection().execute(_candidates_statement(), params).all()


@dataclass(frozen=True)
class Met:
    """A meeting a check-in completed: with whom, their check-in, and whether it is the
    pair's first (``moved_from``: the meeting that was their first until now)."""

    meeting_id: int
    other_id: int
    other_checkin_id: int
    first: bool
    moved_from: int | None
    at_event: bool
    handle: str
    display_name: str


def detect(
    *,
    db_session: Session,
    ledger: Ledger,
    user: User,
    checkin: Checkin,
    venue: Venue,
    policy: PointsPolicy,
    contacts: list[int],
) -> list[Met]:
    """Record each new meeting (both sides), mark first meetings and tell both people;
    the points are the rewards pipeline's.

    A pair meets once per (meeting venue, local day), and a check-in meets a contact at
    most once (one encounter, one reward): each contact's candidates are tried nearest in
    time first (then by id) and the first that inserts is the meeting; one that collides
    with a meeting already recorded leaves the others to be tried."""
    found, tried, met = [], set(), set()
    for other in _candidates(db_session, contacts, checkin, venue):
        if other.user_id in met:
            continue
        mine_first = (checkin.effective_at, checkin.id) < (other.effective_at, other.id)
        meeting_venue = venue.id if mine_first else other.venue_id
        zone = ZoneInfo(venue.timezone if mine_first else other.timezone)
        met_at = max(checkin.effective_at, other.effective_at)
        day = met_at.astimezone(zone).date()
        if (other.user_id, meeting_venue, day) in tried:
            continue
        tried.add((other.user_id, meeting_venue, day))
        meeting_id, event_id = _insert(
            db_session, user, checkin, venue, other, meeting_venue, day, ledger.now
        )
        if meeting_id is None:
            continue
        met.add(other.user_id)
        first, moved_from = first_meeting.claim(
            db_session,
            ledger=ledger,
            other_id=other.user_id,
            meeting_id=meeting_id,
            met_at=met_at,
            policy=policy,
        )
        db_session.execute(
            update(Relationship)
            .where(
                ((Relationship.user_id == user.id) & (Relationship.other_id == other.user_id))
                | ((Relationship.user_id == other.user_id) & (Relationship.other_id == user.id))
            )
            .values(
                met_in_person=True,
                meetings=Relationship.meetings + 1,
                first_met_at=func.least(func.coalesce(Relationship.first_met_at, met_at), met_at),
            )
        )
        _tell_both(db_session, user, venue, other, meeting_id, first)
        found.append(
            Met(
                meeting_id=meeting_id,
                other_id=other.user_id,
                other_checkin_id=other.id,
                first=first,
                moved_from=moved_from,
                at_event=event_id is not None,
                handle=other.handle,
                display_name=other.display_name,
            )
        )
    return found


def _insert(db_session, user, checkin, venue, other, meeting_venue, day, now) -> tuple:
    """Both rows of a meeting (not marked first yet): its id (None when the pair already
    met at that venue that day) and event."""
    meeting_id = db_session.scalar(select(MEETING_ID.next_value()))
    base = {
        "id": meeting_id,
        "meeting_venue_id": meeting_venue,
        "local_day": day,
        "met_at": max(checkin.effective_at, other.effective_at),
        "first_time": False,
        "created_at": now,
        "event_id": checkin.event_id
        if checkin.event_id is not None and checkin.event_id == other.event_id
        else None,
    }
    inserted = db_session.execute(
        insert(Meeting)
        .values(
            [
                {
                    **base,
                    "user_id": user.id,
                    "other_id": other.user_id,
                    "venue_id": venue.id,
                    "checkin_id": checkin.id,
                    "other_checkin_id": other.id,
                },
                {
                    **base,
                    "user_id": other.user_id,
                    "other_id": user.id,
                    "venue_id": other.venue_id,
                    "checkin_id": other.id,
                    "other_checkin_id": checkin.id,
                },
            ]
        )
        .on_conflict_do_nothing()
        .returning(Meeting.user_id)
    ).all()
    return (meeting_id, base["event_id"]) if inserted else (None, None)


def _tell_both(
    db_session: Session, user: User, venue: Venue, other, meeting_id: int, first: bool
) -> None:
    """Each side hears whom they met, at their own venue."""
    for user_id, met, met_id, where in (
        (
            user.id,
            person(other.handle, other.display_name),
            other.user_id,
            {"id": venue.id, "name": venue.name},
        ),
        (
            other.user_id,
            person(user.handle, user.display_name),
            user.id,
            {"id": other.venue_id, "name": other.venue_name},
        ),
    ):
        outbox.queue(
            db_session,
            messages.meeting(
                user_id=user_id,
                other=met,
                other_id=met_id,
                venue=where,
                meeting_id=meeting_id,
                first_time=first,
            ),
        )
