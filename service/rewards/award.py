"""What an eligible check-in earns besides meetings: points for the check-in, a first
visit and a streak, a new city, and the venue's mayorship (PRODUCT.md, Points).

Each point is a line in the ledger (who, why, how many, which check-in), so totals can be
audited and rebuilt. The person's own lines go to the check-in's ``Ledger``.
"""

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    String,
    bindparam,
    exists,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geo.cities import city_of
from geo.coords import LatLon
from geo.sql import latitude, longitude
from service.models import Checkin, UserCity, UserVenue, Venue, VenueMayor, VenueVisitDay
from service.rewards import expiry, mayorship
from service.rewards.ledger import credit
from service.rewards.rules import Around, Context, Fact, streak
from service.rewards.streaks import streak_bonus

if TYPE_CHECKING:
    from service.rewards.pipeline import Arrival


@dataclass
class Visit:
    """What an eligible check-in changed besides meetings: the facts (for the badge
    rules), numbers already known (by rule kind), the mayorship to tell the person,
    another user who became mayor, and how the person's counters move."""

    facts: set[Fact] = field(default_factory=set)
    known: dict[str, int] = field(default_factory=dict)
    mayorship: dict | None = None
    new_mayor: int | None = None
    venues_added: int = 0
    cities_added: int = 0


@lru_cache(maxsize=1)
def _visit_rows_statement():
    """The user's first visit to the venue, first check-in in the city and (for a shared
    check-in) visit day, each inserted unless there; which were new. One round trip,
    built once."""
    user_id, venue_id = bindparam("user_id", type_=BigInteger), bindparam("venue_id", BigInteger)
    checkin_id = bindparam("checkin_id", type_=BigInteger)
    now = bindparam("now", type_=DateTime(timezone=True))

    def added(table, values: dict, when=None):
        rows = select(*[value.label(name) for name, value in values.items()])
        if when is not None:
            rows = rows.where(when)
        return (
            insert(table)
            .from_select(list(values), rows)
            .on_conflict_do_nothing()
            .returning(literal(1))
            .cte(f"new_{table.name}")
        )

    venue = added(
        UserVenue.__table__,
        {"user_id": user_id, "venue_id": venue_id, "first_checkin_id": checkin_id, "first_at": now},
    )
    city = added(
        UserCity.__table__,
        {
            "user_id": user_id,
            "city": bindparam("city", type_=String),
            "first_checkin_id": checkin_id,
            "first_at": now,
        },
    )
    day = added(
        VenueVisitDay.__table__,
        {"venue_id": venue_id, "user_id": user_id, "local_day": bindparam("day", type_=Date)},
        when=bindparam("shared", type_=Boolean),
    )
    return select(
        exists(select(venue)).label("venue"),
        exists(select(city)).label("city"),
        exists(select(day)).label("day"),
    )


def _inserted(db_session: Session, statement) -> bool:
    """Run an INSERT ... ON CONFLICT DO NOTHING; True if it inserted."""
    returned = db_session.execute(statement.on_conflict_do_nothing().returning(literal(1)))
    return returned.first() is not None


def venue_city(db_session: Session, venue: Venue) -> str:
    """The venue's city: kept on the venue when it is created or moved, else looked up
    offline from its position. Never written here: ``venues`` is a reference table on
    Citus, and a write to it would be a transaction on every node inside a check-in."""
    if venue.city is not None:
        return venue.city
    lat, lon = db_session.execute(
        select(latitude(Venue.location), longitude(Venue.location)).where(Venue.id == venue.id)
    ).one()
    return city_of(LatLon(lat, lon))


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


def visit(
    arrival: "Arrival",
    *,
    around: Around | None = None,
    mayor: VenueMayor | None,
) -> Visit:
    """The visit's ledger lines and state for one eligible check-in (PRODUCT.md, Points:
    the check-in, a first visit, an event, a streak, a mayorship). ``around``: the
    user's check-ins around it, when already read; ``mayor``: the venue's mayor row (None:
    it has none)."""
    db_session, user, checkin, venue, ledger, policy = arrival.parts()
    now = ledger.now
    done = Visit(facts={Fact.CHECKIN})
    ledger.add("checkin", policy.checkin)
    settling = mayor is not None and mayor.expires_at <= now
    new = (
        db_session.connection()
        .execute(
            _visit_rows_statement(),
            {
                "user_id": user.id,
                "venue_id": venue.id,
                "checkin_id": checkin.id,
                "now": now,
                "city": venue_city(db_session, venue),
                "day": checkin.local_day,
                # a mayorship due is settled before the new visit day is counted
                "shared": checkin.shared and not settling,
            },
        )
        .one()
    )
    if new.venue:
        ledger.add("first_visit", policy.first_visit)
        done.facts.add(Fact.FIRST_VISIT)
        done.venues_added = 1
    else:
        done.facts.add(Fact.REVISIT)
    if checkin.event_id is not None:
        ledger.add("event", policy.event)
        done.facts.add(Fact.EVENT_CHECKIN)
    if new.city:
        done.facts.add(Fact.NEW_CITY)
        done.cities_added = 1
    done.known = {
        "checkins": user.eligible_checkins + 1,
        "distinct_venues": user.venues_visited + done.venues_added,
        "distinct_cities": user.cities_visited + done.cities_added,
    }
    first_today = (
        checkin.local_day not in around.days
        if around is not None
        else _first_today(db_session, checkin, now)
    )
    if first_today:
        # the run through this day: a replay filling a gap earns (and awards) the streak
        # it completes through today; the days after it are not credited again
        done.facts.add(Fact.NEW_DAY)
        length = streak(Context(db_session, user.id, now, checkin, venue, around=around), {}, 30)
        done.known["streak"] = length
        bonus = streak_bonus(length, policy.streak_day, policy.streak_max)
        if bonus:
            ledger.add("streak", bonus)
    # decisions that fell due before this check-in are made as of their own day first
    new_day = new.day
    if settling:
        expiry.settle_venue(db_session, venue, now, policy.mayorship)
        # mayorship days only from check-ins contacts could see (a mayor is shown to them)
        new_day = checkin.shared and _inserted(
            db_session,
            insert(VenueVisitDay).values(
                venue_id=venue.id, user_id=user.id, local_day=checkin.local_day
            ),
        )
    if new_day:
        _mayorship(arrival, done)
    else:
        if mayor is not None:  # through the identity map: settling may have changed it
            mayor = db_session.get(VenueMayor, venue.id)
        done.mayorship = _still_mayor(mayor, venue.id, user.id)
    return done


def _still_mayor(mayor: VenueMayor | None, venue_id: int, user_id: int) -> dict | None:
    if mayor is None or mayor.user_id != user_id:
        return None
    return {"venue_id": venue_id, "status": "kept", "days": mayor.days}


def _mayorship(arrival: "Arrival", done: Visit) -> None:
    """Re-decide the mayor after a new visit day; +25 to whoever newly becomes mayor
    (the person checking in, or another user whose rival's days ran out)."""
    db_session, user, venue, ledger = (
        arrival.db_session,
        arrival.user,
        arrival.venue,
        arrival.ledger,
    )
    today = ledger.now.astimezone(ZoneInfo(venue.timezone)).date()
    previous, mayor, days = mayorship.evaluate(
        db_session=db_session,
        venue_id=venue.id,
        today=today,
        arriving=user.id,
        now=ledger.now,
        checkin_id=arrival.checkin.id,
    )
    if mayor == user.id:
        if previous != user.id:
            ledger.add("mayorship", arrival.policy.mayorship)
            done.facts.add(Fact.NEW_MAYORSHIP)
        status = "kept" if previous == user.id else "new"
        done.mayorship = {"venue_id": venue.id, "status": status, "days": days}
    elif mayor is not None and mayor != previous:
        credit(db_session, mayor, arrival.policy.mayorship, "mayorship", ledger.now, None)
        done.new_mayor = mayor


def redecide_mayor(*, db_session: Session, venue: Venue, now: datetime, points: int) -> None:
    """Re-decide a venue's mayor outside a check-in (its staff changed); whoever newly
    becomes mayor earns the mayorship ``points``."""
    expiry.settle_venue(db_session, venue, now, points)
    previous, mayor, _days = mayorship.evaluate(
        db_session=db_session,
        venue_id=venue.id,
        today=now.astimezone(ZoneInfo(venue.timezone)).date(),
        arriving=None,
        now=now,
        checkin_id=None,
    )
    if mayor is not None and mayor != previous:
        credit(db_session, mayor, points, "mayorship", now, None)
