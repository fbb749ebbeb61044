"""Mayorships (PRODUCT.md): the user with the most distinct local days with an eligible
check-in at a venue in the last 60 days, at least 2; ties keep the current mayor. Days
come only from check-ins contacts could see (``award``); staff who accepted the owner's
invitation are excluded from the day they accepted on.

Over time a mayorship only changes on a new visit day (``evaluate``, at the check-in) or
when the mayor's oldest counted day leaves the window: until then every rival's count
can only fall, so nobody can overtake. ``venue_mayors.expires_at`` (venue-local midnight
of that day) says when; ``settle`` replays the decisions due since then (pure), for the
read as of now and for the periodic job (``service.rewards.expiry``).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Date, and_, bindparam, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from service.contacts.pairs import pair_key
from service.models import MayorshipChange, Venue, VenueMayor, VenueStaff, VenueVisitDay
from service.notifications import messages, outbox

WINDOW_DAYS = 60
MIN_DAYS = 2
WINDOW = timedelta(days=WINDOW_DAYS)


def _counted(venue_id: int, after: date, until: date) -> tuple:
    """Visit days at the venue in (after, until]: none of current staff (staff cannot be
    mayor), and none of former staff from their acceptance on (venue local days), so
    leaving changes no past standing."""
    since_accepted = VenueVisitDay.local_day >= cast(
        func.timezone(Venue.timezone, VenueStaff.accepted_at), Date
    )
    as_staff = exists().where(
        VenueStaff.venue_id == VenueVisitDay.venue_id,
        VenueStaff.user_id == VenueVisitDay.user_id,
        or_(
            VenueStaff.status == "accepted",
            and_(VenueStaff.status == "ended", since_accepted),
        ),
        Venue.id == VenueStaff.venue_id,
    )
    return (
        VenueVisitDay.venue_id == venue_id,
        VenueVisitDay.local_day > after,
        VenueVisitDay.local_day <= until,
        ~as_staff,
    )


@lru_cache(maxsize=1)
def _standings_statement():
    """``standings``' query, built once with bound parameters."""
    return (
        select(VenueVisitDay.user_id, func.count(), func.min(VenueVisitDay.local_day))
        .where(
            *_counted(
                bindparam("venue_id", type_=BigInteger),
                bindparam("after", type_=Date),
                bindparam("until", type_=Date),
            )
        )
        .group_by(VenueVisitDay.user_id)
    )


def standings(db_session: Session, venue_id: int, today: date) -> dict[int, tuple[int, date]]:
    """Users' counted visit days at the venue in the 60 days ending today, and the oldest
    of them (when the mayorship of each would expire)."""
    rows = db_session.connection().execute(
        _standings_statement(), {"venue_id": venue_id, "after": today - WINDOW, "until": today}
    )
    return {user: (days, oldest) for user, days, oldest in rows}


def visit_days(db_session: Session, venue_id: int, after: date, until: date) -> dict[int, list]:
    """Each user's counted visit days at the venue in (after, until]."""
    days: dict[int, list[date]] = {}
    for user_id, day in db_session.execute(
        select(VenueVisitDay.user_id, VenueVisitDay.local_day).where(
            *_counted(venue_id, after, until)
        )
    ):
        days.setdefault(user_id, []).append(day)
    return days


def expiry(oldest: date, zone: str) -> datetime:
    """Venue-local midnight of the day ``oldest`` leaves the 60-day window."""
    return datetime.combine(oldest + WINDOW, time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def local_day(at: datetime, zone: str) -> date:
    """The venue-local day of an instant."""
    return at.astimezone(ZoneInfo(zone)).date()


def decide(counts: dict[int, int], current: int | None, arriving: int | None) -> int | None:
    """Who should be mayor: the most days (≥ 2); a tie keeps the current mayor, else the
    arriving user, else the lowest id (pure)."""
    if not counts:
        return None
    best = max(counts.values())
    if best < MIN_DAYS:
        return None
    leaders = {user for user, days in counts.items() if days == best}
    if current in leaders:
        return current
    return arriving if arriving in leaders else min(leaders)


@dataclass(frozen=True)
class Step:
    """One re-decision at a mayorship's expiry: at ``at`` (the venue-local day ``day``)
    ``previous`` was mayor and ``mayor`` is (None: nobody qualifies)."""

    at: datetime
    day: date
    previous: int
    mayor: int | None
    days: int
    expires_at: datetime | None


def settle(
    days: dict[int, list[date]], mayor: int, expires_at: datetime, zone: str, now: datetime
) -> list[Step]:
    """The re-decisions due by ``now`` of a mayorship that expires at ``expires_at``, each
    at its own expiry, with no visit day added meanwhile (pure). ``days``: the counted
    visit days from 60 days before the first expiry on."""
    steps = []
    while mayor is not None and expires_at <= now:
        day = local_day(expires_at, zone)
        window = {user: [d for d in mine if day - WINDOW < d <= day] for user, mine in days.items()}
        counts = {user: len(mine) for user, mine in window.items() if mine}
        new = decide(counts, mayor, None)
        following = expiry(min(window[new]), zone) if new is not None else None
        steps.append(Step(expires_at, day, mayor, new, counts.get(new, 0), following))
        mayor, expires_at = new, following
    return steps


@lru_cache(maxsize=1)
def _lock_statement():
    return select(func.pg_advisory_xact_lock(bindparam("key", type_=BigInteger)))


def lock(db_session: Session, venue_id: int) -> None:
    """Serialise decisions at one venue (a per-venue advisory lock)."""
    db_session.connection().execute(_lock_statement(), {"key": pair_key(-1, venue_id)})


def evaluate(
    *,
    db_session: Session,
    venue_id: int,
    today: date,
    arriving: int | None,
    now: datetime,
    checkin_id: int | None,
) -> tuple[int | None, int | None, int]:
    """Re-decide the venue's mayor; returns ``(previous, mayor, days)`` and records changes.

    Call ``expiry.settle_venue`` first, so decisions that fell due before are made as of
    their own day."""
    lock(db_session, venue_id)
    current = db_session.get(VenueMayor, venue_id, populate_existing=True)
    previous = current.user_id if current else None
    standing = standings(db_session, venue_id, today)
    mayor = decide({user: days for user, (days, _) in standing.items()}, previous, arriving)
    days, expires_at = 0, None
    if mayor is not None:
        days, oldest = standing[mayor]
        expires_at = expiry(oldest, db_session.get(Venue, venue_id).timezone)
    record(
        db_session,
        venue_id,
        current,
        Step(now, today, previous, mayor, days, expires_at),
        checkin_id if mayor == arriving else None,
    )
    return previous, mayor, days


def record(
    db_session: Session,
    venue_id: int,
    current: VenueMayor | None,
    step: Step,
    checkin_id: int | None = None,
) -> None:
    """Store a decision: the mayor's row, and on a change its history and notifications."""
    if step.mayor == step.previous:
        if current is not None:
            current.days, current.expires_at = step.days, step.expires_at
        return
    if step.mayor is None:
        db_session.delete(current)
    elif current is None:
        db_session.add(
            VenueMayor(
                venue_id=venue_id,
                user_id=step.mayor,
                days=step.days,
                since=step.at,
                expires_at=step.expires_at,
            )
        )
    else:
        current.user_id, current.days, current.since = step.mayor, step.days, step.at
        current.expires_at = step.expires_at
    db_session.add(
        MayorshipChange(
            venue_id=venue_id,
            previous_user_id=step.previous,
            user_id=step.mayor,
            days=step.days,
            at=step.at,
            checkin_id=checkin_id,
        )
    )
    db_session.flush()
    _tell(db_session, venue_id, step.previous, step.mayor)


def _tell(db_session: Session, venue_id: int, previous: int | None, mayor: int | None) -> None:
    """Notify the mayor who lost the crown and the one who gained it."""
    venue = db_session.get(Venue, venue_id)
    shown = {"id": venue_id, "name": venue.name}
    if previous is not None:
        outbox.queue(db_session, messages.mayorship(user_id=previous, venue=shown, gained=False))
    if mayor is not None:
        outbox.queue(db_session, messages.mayorship(user_id=mayor, venue=shown, gained=True))
