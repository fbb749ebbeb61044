"""What an eligible check-in earns besides meetings: points for the check-in, a first
visit and a streak, a new city, and the venue's mayorship (PRODUCT.md, Points).

Each point is a line in the ledger (who, why, how many, which check-in), so totals can be
audited and rebuilt.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import exists, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geo.cities import city_of
from geo.coords import LatLon
from geo.sql import latitude, longitude
from service.models import (
    Checkin,
    PointsEntry,
    User,
    UserCity,
    UserVenue,
    Venue,
    VenueMayor,
    VenueVisitDay,
)
from service.rewards import expiry, mayorship
from service.rewards.ledger import credit
from service.rewards.rules import Context, streak
from service.rewards.streaks import streak_bonus

# Rule kinds whose number can move with any eligible check-in; the others move only on
# the events noted in ``checkin_rewards`` (a first visit, a new city, a new day, ...).
ALWAYS_CHANGED = frozenset({"checkins", "same_venue_repeats", "crowd", "local_hour"})


def _inserted(db_session: Session, statement) -> bool:
    """Run an INSERT ... ON CONFLICT DO NOTHING; True if it inserted."""
    returned = db_session.execute(statement.on_conflict_do_nothing().returning(literal(1)))
    return returned.first() is not None


def venue_city(db_session: Session, venue: Venue) -> str:
    """The venue's city, looked up offline once and kept on the venue."""
    if venue.city is None:
        lat, lon = db_session.execute(
            select(latitude(Venue.location), longitude(Venue.location)).where(Venue.id == venue.id)
        ).one()
        venue.city = city_of(LatLon(lat, lon))
    return venue.city


def _first_today(db_session: Session, checkin: Checkin, now: datetime) -> bool:
    """No other eligible check-in of the user on this check-in's local day yet."""
    return not db_session.scalar(
        select(
            exists().where(
                Checkin.user_id == checkin.user_id,
                Checkin.eligible,
                Checkin.id != checkin.id,
                Checkin.local_day == checkin.local_day,
                Checkin.created_at <= now,
            )
        )
    )


def checkin_rewards(
    *, db_session: Session, user: User, checkin: Checkin, venue: Venue, now: datetime
) -> dict:
    """Ledger lines and state for one eligible check-in; returns points and mayorship."""
    cfg = current_app.config
    lines = [("checkin", cfg["POINTS_CHECKIN"])]
    changed = set(ALWAYS_CHANGED)
    if _inserted(
        db_session,
        insert(UserVenue).values(
            user_id=user.id, venue_id=venue.id, first_checkin_id=checkin.id, first_at=now
        ),
    ):
        lines.append(("first_visit", cfg["POINTS_FIRST_VISIT"]))
        changed.add("distinct_venues")
    if checkin.event_id is not None:
        lines.append(("event", cfg["POINTS_EVENT"]))
        changed.add("events_attended")
    if _inserted(
        db_session,
        insert(UserCity).values(
            user_id=user.id,
            city=venue_city(db_session, venue),
            first_checkin_id=checkin.id,
            first_at=now,
        ),
    ):
        changed.add("distinct_cities")
    if _first_today(db_session, checkin, now):
        # the run through this day: a replay filling a gap earns (and awards) the streak
        # it completes through today; the days after it are not credited again
        changed.add("streak")
        length = streak(Context(db_session, user.id, now, checkin, venue), {}, 30)
        bonus = streak_bonus(length, cfg["POINTS_STREAK_DAY"], cfg["POINTS_STREAK_MAX"])
        if bonus:
            lines.append(("streak", bonus))
    crown, other_mayor = None, None
    # decisions that fell due before this check-in are made as of their own day first
    expiry.settle_venue(db_session, venue, now, cfg["POINTS_MAYORSHIP"])
    # mayorship days only from check-ins contacts could see (a mayor is shown to them)
    if checkin.shared and _inserted(
        db_session,
        insert(VenueVisitDay).values(
            venue_id=venue.id, user_id=user.id, local_day=checkin.local_day
        ),
    ):
        crown, other_mayor = _mayorship(db_session, user, checkin, venue, now, lines)
        if crown is not None and crown["status"] == "new":
            changed.add("mayorships")
    else:
        crown = _still_mayor(db_session, venue.id, user.id)
    for reason, points in lines:
        db_session.add(
            PointsEntry(
                user_id=user.id, checkin_id=checkin.id, reason=reason, points=points, created_at=now
            )
        )
    total = sum(points for _, points in lines)
    checkin.points += total
    user.points += total
    user.eligible_checkins += 1
    return {"points": total, "mayorship": crown, "other_mayor": other_mayor, "changed": changed}


def _still_mayor(db_session: Session, venue_id: int, user_id: int) -> dict | None:
    mayor = db_session.get(VenueMayor, venue_id)
    if mayor is None or mayor.user_id != user_id:
        return None
    return {"venue_id": venue_id, "status": "kept", "days": mayor.days}


def _mayorship(
    db_session: Session, user: User, checkin: Checkin, venue: Venue, now: datetime, lines: list
) -> tuple[dict | None, int | None]:
    """Re-decide the mayor after a new visit day; +25 to whoever newly becomes mayor.

    Returns what to tell the person checking in, and another user who became mayor
    (when the previous mayor's days ran out of the window)."""
    today = now.astimezone(ZoneInfo(venue.timezone)).date()
    previous, mayor, days = mayorship.evaluate(
        db_session=db_session,
        venue_id=venue.id,
        today=today,
        arriving=user.id,
        now=now,
        checkin_id=checkin.id,
    )
    points = current_app.config["POINTS_MAYORSHIP"]
    if mayor == user.id:
        if previous != user.id:
            lines.append(("mayorship", points))
        status = "kept" if previous == user.id else "new"
        return {"venue_id": venue.id, "status": status, "days": days}, None
    if mayor is not None and mayor != previous:
        credit(db_session, mayor, points, "mayorship", now, None)
        return None, mayor
    return None, None


def redecide_mayor(*, db_session: Session, venue: Venue, now: datetime) -> None:
    """Re-decide a venue's mayor outside a check-in (its staff changed); whoever newly
    becomes mayor earns the mayorship points."""
    expiry.settle_venue(db_session, venue, now, current_app.config["POINTS_MAYORSHIP"])
    previous, mayor, _days = mayorship.evaluate(
        db_session=db_session,
        venue_id=venue.id,
        today=now.astimezone(ZoneInfo(venue.timezone)).date(),
        arriving=None,
        now=now,
        checkin_id=None,
    )
    if mayor is not None and mayor != previous:
        credit(db_session, mayor, current_app.config["POINTS_MAYORSHIP"], "mayorship", now, None)
