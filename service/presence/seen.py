"""Where each person was last seen: their latest visible check-in, kept on their row.

``users.seen_*`` (migration 0018) hold the newest check-in ``visibility.shown`` lets
contacts see (greatest effective time, then id). The statement that writes a check-in's
totals moves them (``kept_values``) only when the check-in is shared and later than the
one kept, so an offline replay of an older check-in never does; a
venue's move carries ``seen_location`` along (``venues.edits``). Readers still test the
person's sharing *now* (``visibility.sharing``): turning sharing off hides them at once.
"""

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    and_,
    bindparam,
    case,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.orm import Session, aliased

from geo import sql as geosql
from service.models import Checkin, User, Venue
from service.presence import visibility

_AT = bindparam("p_seen_at", type_=DateTime(timezone=True))
_CHECKIN = bindparam("p_seen_checkin", type_=BigInteger)
_VENUE = bindparam("p_seen_venue", type_=BigInteger)
_POINT = geosql.point_of(bindparam("p_seen_lat", type_=Float), bindparam("p_seen_lon", type_=Float))
NOTHING = {
    "p_seen_at": None,
    "p_seen_checkin": None,
    "p_seen_venue": None,
    "p_seen_lat": None,
    "p_seen_lon": None,
}


def kept_values(users=User.__table__) -> dict:
    """``users`` SET clauses taking the given check-in (``params``) as the latest seen
    when it is later than the one kept (parameters are named ``p_seen_*``)."""
    later = and_(
        _AT.is_not(None),
        or_(
            users.c.seen_at.is_(None),
            tuple_(_AT, _CHECKIN) > tuple_(users.c.seen_at, users.c.seen_checkin_id),
        ),
    )
    return {
        "seen_checkin_id": case((later, _CHECKIN), else_=users.c.seen_checkin_id),
        "seen_at": case((later, _AT), else_=users.c.seen_at),
        "seen_venue_id": case((later, _VENUE), else_=users.c.seen_venue_id),
        "seen_location": case((later, _POINT), else_=users.c.seen_location),
    }


def params(checkin: Checkin, lat: float, lon: float) -> dict:
    """The ``kept_values`` parameters for a stored check-in at a venue's point: nothing
    to keep when contacts may not see it (private, or made while sharing ``off``)."""
    if not checkin.shared:
        return NOTHING
    return {
        "p_seen_at": checkin.effective_at,
        "p_seen_checkin": checkin.id,
        "p_seen_venue": checkin.venue_id,
        "p_seen_lat": lat,
        "p_seen_lon": lon,
    }


def rebuild(db_session: Session) -> int:
    """Set every person's latest seen check-in from the history (``recompute-rewards``,
    seeded benchmarks): one probe of the visible check-ins' index per person; returns
    how many people were seen somewhere."""
    person = aliased(User)
    latest = (
        select(Checkin.id, Checkin.effective_at, Checkin.venue_id, Venue.location)
        .join(Venue, Venue.id == Checkin.venue_id)
        .where(Checkin.user_id == person.id, ~Checkin.private, visibility.shown(Checkin))
        .order_by(Checkin.effective_at.desc(), Checkin.id.desc())
        .limit(1)
        .lateral("latest")
    )
    found = (
        select(
            person.id.label("user_id"),
            latest.c.id.label("checkin_id"),
            latest.c.effective_at,
            latest.c.venue_id,
            latest.c.location,
        )
        .join(latest, true())
        .subquery("found")
    )
    nobody = dict.fromkeys(("seen_checkin_id", "seen_at", "seen_venue_id", "seen_location"))
    db_session.execute(update(User).values(**nobody).execution_options(synchronize_session=False))
    return db_session.execute(
        update(User)
        .where(User.id == found.c.user_id)
        .values(
            seen_checkin_id=found.c.checkin_id,
            seen_at=found.c.effective_at,
            seen_venue_id=found.c.venue_id,
            seen_location=found.c.location,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
