"""Mayorships (PRODUCT.md): the user with the most distinct local days with an eligible
check-in at a venue in the last 60 days, at least 2; ties keep the current mayor. Days
come only from check-ins contacts could see (``award``); staff who accepted the owner's
invitation are excluded from the day they accepted on."""

from datetime import date, datetime, timedelta

from sqlalchemy import Date, and_, cast, delete, exists, func, select
from sqlalchemy.orm import Session

from service.contacts.pairs import pair_key
from service.models import MayorshipChange, Venue, VenueMayor, VenueStaff, VenueVisitDay
from service.notifications import messages, outbox

WINDOW_DAYS = 60
MIN_DAYS = 2


def standings(db_session: Session, venue_id: int, today: date) -> dict[int, int]:
    """Users' distinct visit days at the venue in the 60 days ending today, without the
    days of accepted staff from their acceptance on (venue local days)."""
    as_staff = exists().where(
        VenueStaff.venue_id == VenueVisitDay.venue_id,
        VenueStaff.user_id == VenueVisitDay.user_id,
        VenueStaff.status == "accepted",
        VenueVisitDay.local_day
        >= cast(func.timezone(Venue.timezone, VenueStaff.accepted_at), Date),
        Venue.id == VenueStaff.venue_id,
    )
    rows = db_session.execute(
        select(VenueVisitDay.user_id, func.count())
        .where(
            and_(
                VenueVisitDay.venue_id == venue_id,
                VenueVisitDay.local_day > today - timedelta(days=WINDOW_DAYS),
                VenueVisitDay.local_day <= today,
            ),
            ~as_staff,
        )
        .group_by(VenueVisitDay.user_id)
    )
    return dict(rows.all())


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

    A per-venue advisory lock serialises concurrent decisions at one venue.
    """
    db_session.execute(select(func.pg_advisory_xact_lock(pair_key(-1, venue_id))))
    current = db_session.get(VenueMayor, venue_id, populate_existing=True)
    previous = current.user_id if current else None
    counts = standings(db_session, venue_id, today)
    mayor = decide(counts, previous, arriving)
    days = counts.get(mayor, 0) if mayor is not None else 0
    if mayor == previous:
        if current is not None:
            current.days = days
        return previous, mayor, days
    if mayor is None:
        db_session.execute(delete(VenueMayor).where(VenueMayor.venue_id == venue_id))
    elif current is None:
        db_session.add(VenueMayor(venue_id=venue_id, user_id=mayor, days=days, since=now))
    else:
        current.user_id, current.days, current.since = mayor, days, now
    db_session.add(
        MayorshipChange(
            venue_id=venue_id,
            previous_user_id=previous,
            user_id=mayor,
            days=days,
            at=now,
            checkin_id=checkin_id if mayor == arriving else None,
        )
    )
    db_session.flush()
    _tell(db_session, venue_id, previous, mayor)
    return previous, mayor, days


def _tell(db_session: Session, venue_id: int, previous: int | None, mayor: int | None) -> None:
    """Notify the mayor who lost the crown and the one who gained it."""
    venue = db_session.get(Venue, venue_id)
    shown = {"id": venue_id, "name": venue.name}
    if previous is not None:
        outbox.queue(db_session, messages.mayorship(user_id=previous, venue=shown, gained=False))
    if mayor is not None:
        outbox.queue(db_session, messages.mayorship(user_id=mayor, venue=shown, gained=True))
