"""Check-in use cases: record a check-in with its rewards; read them back."""

from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select, true, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from geo import sql as geosql
from geo.coords import LatLon
from service import clock
from service.admin import audit
from service.checkins import eligibility
from service.checkins.measure import measure
from service.contacts import pairs
from service.errors import DomainError, NotFound, RateLimited
from service.events import attendance
from service.footfall import rollup as footfall
from service.meetings.detect import detect
from service.models import Checkin, User, UserBadge, Venue, VenueMayor
from service.notifications import nearby
from service.plans import arrival
from service.presence import seen
from service.presence import service as presence
from service.rewards import pipeline
from service.rewards.ledger import Ledger
from service.rewards.policy import PointsPolicy
from service.venues import service as venues

MAX_CLIENT_AGE = timedelta(hours=24)
MAX_CLIENT_AHEAD = timedelta(minutes=5)
RATE_WINDOW = timedelta(hours=1)


def effective_time(client_time: datetime | None, now: datetime) -> datetime:
    """``client_time`` when given (≤ 24 h old, ≤ 5 min ahead), else server time."""
    if client_time is None:
        return now
    if client_time < now - MAX_CLIENT_AGE:
        raise DomainError(
            "client_time is more than 24 hours old; such check-ins can no longer be replayed.",
            errors={"json": {"client_time": ["Too old."]}},
        )
    if client_time > now + MAX_CLIENT_AHEAD:
        raise DomainError(
            "client_time is more than 5 minutes in the future; check the phone's clock.",
            errors={"json": {"client_time": ["In the future."]}},
        )
    return client_time


class Locked(NamedTuple):
    """The user as read under their lock, the badges they hold, and whether they have an
    open meeting plan (which this check-in may arrive at)."""

    user: User
    held: set[tuple[str, int]]
    plans_open: bool


def _lock_user(db_session: Session, user_id: int) -> Locked:
    """Serialise one user's check-ins so the rules and limits see each other. Returns the
    user, re-read under the lock (``populate_existing``) so counters never use a stale
    copy, the badges they hold (read with the lock in one round trip: one awarded
    meanwhile is at worst tried again, and its key refuses it) and whether a plan is open.

    ``FOR NO KEY UPDATE`` does not conflict with the key-share locks that foreign keys to
    ``users`` take (the idempotency key row), so two retries cannot deadlock.
    """
    row = db_session.execute(
        _lock_user_statement(),
        {"user_id": user_id},
        execution_options={"populate_existing": True},
    ).one()
    return Locked(row.User, set(zip(row.badges or (), row.levels or (), strict=True)), row.plans)


@lru_cache(maxsize=1)
def _lock_user_statement():
    """The user's row locked, with the badges they hold and whether they have an open
    meeting plan; built once."""
    user_id = bindparam("user_id")
    held = (
        select(
            func.array_agg(UserBadge.badge).label("badges"),
            func.array_agg(UserBadge.level).label("levels"),
        )
        .where(UserBadge.user_id == user_id)
        .subquery()
    )
    return (
        select(User, held.c.badges, held.c.levels, arrival.open_plans(user_id).label("plans"))
        .select_from(User)
        .join(held, true())
        .where(User.id == user_id)
        .with_for_update(key_share=True, of=User)
    )


def _enforce_rate(facts, now: datetime, limit: int) -> None:
    """The 31st check-in of an hour is refused (429), counted after the user's lock."""
    if facts.recent_checkins >= limit:
        retry_after = (facts.oldest_recent_at + RATE_WINDOW - now).total_seconds()
        raise RateLimited(
            f"More than {limit} check-ins in an hour; try again later.",
            retry_after=int(retry_after) + 1,
        )


@lru_cache(maxsize=1)
def _venue_and_mayor_statement():
    return (
        select(Venue, VenueMayor)
        .outerjoin(VenueMayor, VenueMayor.venue_id == Venue.id)
        .where(Venue.id == bindparam("venue_id"), Venue.deleted_at.is_(None))
        .with_for_update(read=True, key_share=True, of=Venue)
    )


def _venue_and_mayor(db_session: Session, venue_id: int) -> tuple[Venue, VenueMayor | None]:
    """The live venue, held as the check-in's foreign key will anyway (FOR KEY SHARE: a
    move of the venue waits for the check-in, or the check-in reads the moved venue),
    with its mayor row; 404 if unknown or deleted."""
    row = db_session.execute(_venue_and_mayor_statement(), {"venue_id": venue_id}).first()
    if row is None:
        raise NotFound("No such venue.")
    return row.Venue, row.VenueMayor


def check_in(
    *,
    db_session: Session,
    user: User,
    policy: PointsPolicy,
    checkins_per_hour: int,
    venue_id: int,
    location: dict,
    accuracy_m: float | None = None,
    shout: str | None = None,
    client_time: datetime | None = None,
    private: bool = False,
    event_id: int | None = None,
) -> dict:
    """Store a check-in (never refused for looking implausible) and what it earned."""
    effective_time(client_time, clock.now())  # refuse a bad client_time before any lock
    position = LatLon(**location)
    venue, mayor = _venue_and_mayor(db_session, venue_id)
    can_meet = not private and user.location_sharing != "off"
    # my mutual contacts, read once: their pairs locked now, the same ids then asked for
    # meetings and told I am near
    contacts = pairs.lock_contact_pairs(db_session, user.id) if can_meet else []
    user, have, plans_open = _lock_user(db_session, user.id)
    # Time is read under the lock, so a user's check-ins are created in lock order and
    # every rule sees all the earlier ones as "before now".
    now = clock.now()
    at = effective_time(client_time, now)
    local_day = at.astimezone(ZoneInfo(venue.timezone)).date()
    facts = measure(
        db_session=db_session,
        user_id=user.id,
        venue=venue,
        position=position,
        at=at,
        local_day=local_day,
        since=now - RATE_WINDOW,
    )
    _enforce_rate(facts, now, checkins_per_hour)
    event, event_info = None, None
    if event_id is not None:
        event, event_info = attendance.judge(
            db_session=db_session, event_id=event_id, venue=venue, at=at
        )
    broken = eligibility.reasons(
        measures=facts, radius_m=venue.radius_m, accuracy_m=accuracy_m, at=at
    )
    checkin = Checkin(
        user_id=user.id,
        venue_id=venue.id,
        location=geosql.point(position),
        accuracy_m=accuracy_m,
        shout=shout,
        private=private,
        shared=can_meet,
        client_time=client_time,
        effective_at=at,
        local_day=local_day,
        event_id=event.id if event is not None else None,
        eligible=not broken,
        reasons=[reason.as_dict() for reason in broken],
        created_at=now,
    )
    db_session.add(checkin)
    db_session.flush()
    footfall.record(db_session=db_session, checkin=checkin, zone=venue.timezone)
    ledger = Ledger(user.id, checkin.id, now)
    earned = pipeline.Rewards()
    if not broken:
        earned = pipeline.reward(
            pipeline.Arrival(db_session, user, checkin, venue, ledger, policy),
            find_meetings=lambda ledger: (
                detect(
                    db_session=db_session,
                    ledger=ledger,
                    user=user,
                    checkin=checkin,
                    venue=venue,
                    policy=policy,
                    contacts=contacts,
                )
                if can_meet
                else []
            ),
            organiser_id=event.organiser_id if event is not None else None,
            have=have,
            around=facts.around,
            mayor=mayor,
        )
    venue_view = venues.to_dict(venue)
    venue_position = LatLon(**venue_view["location"])
    pipeline.write(
        db_session,
        ledger,
        earned.counters,
        checkin_count=1,
        zone=venue.timezone,
        last_seen=seen.params(checkin, venue_position.lat, venue_position.lon),
    )
    set_committed_value(checkin, "points", ledger.earned)
    if plans_open:  # a meeting plan's watcher hears that I arrived
        arrival.record(db_session=db_session, user=user, checkin=checkin)
    if can_meet and not broken:
        # Only a check-in that earns may tell contacts "A is at V". Last: it locks the
        # receivers' quota rows, which should be held for the shortest time.
        nearby.fan_out(
            db_session=db_session,
            sender=user,
            checkin=checkin,
            venue=venue,
            venue_position=venue_position,
            now=now,
            contacts=contacts,
            met=frozenset(meeting["user_id"] for meeting in earned.meetings),
        )
    db_session.flush()
    return {
        "checkin": _to_dict(checkin, position, venue_view),
        "rewards": {
            "eligible": not broken,
            "reasons": checkin.reasons,
            "points": earned.points,
            "badges": earned.badges,
            "mayorship": earned.mayorship,
            "event": event_info,
        },
        "meetings": earned.meetings,
    }


def _to_dict(checkin: Checkin, position: LatLon, venue: Venue | dict) -> dict:
    venue_view = venue if isinstance(venue, dict) else venues.to_dict(venue)
    return {
        "id": checkin.id,
        "venue": venue_view,
        "location": position.as_dict(),
        "accuracy_m": checkin.accuracy_m,
        "shout": checkin.shout,
        "private": checkin.private,
        "client_time": checkin.client_time,
        "effective_at": checkin.effective_at,
        "created_at": checkin.created_at,
        "eligible": checkin.eligible,
        "reasons": checkin.reasons,
        "points": checkin.points,
    }


def _rows(db_session: Session, *conditions, order=None, limit: int | None = None):
    query = (
        select(
            Checkin,
            geosql.latitude(Checkin.location).label("lat"),
            geosql.longitude(Checkin.location).label("lon"),
            Venue,
            geosql.latitude(Venue.location).label("vlat"),
            geosql.longitude(Venue.location).label("vlon"),
        )
        .join(Venue, Venue.id == Checkin.venue_id)
        .where(*conditions)
    )
    if order is not None:
        query = query.order_by(*order)
    if limit is not None:
        query = query.limit(limit)
    return [
        _to_dict(
            row.Checkin,
            LatLon(row.lat, row.lon),
            venues.to_dict(row.Venue, LatLon(row.vlat, row.vlon)),
        )
        for row in db_session.execute(query)
    ]


def get_visible(*, db_session: Session, viewer: User, checkin_id: int) -> dict:
    """My own check-in in full, a contact's as they let me see it; 404 for anything else
    (never a hint that it exists). Admins see any check-in in full, and it is audited."""
    rows = _rows(db_session, Checkin.id == checkin_id, Checkin.user_id == viewer.id)
    if rows:
        return rows[0]
    if viewer.is_admin:
        rows = _rows(db_session, Checkin.id == checkin_id)
        if not rows:
            raise NotFound("No such check-in.")
        audit.record(
            db_session,
            admin_id=viewer.id,
            action="checkin.view",
            target_type="checkin",
            target_id=checkin_id,
        )
        return rows[0]
    shown = presence.contact_checkin(
        db_session=db_session, viewer_id=viewer.id, checkin_id=checkin_id
    )
    if shown is None:
        raise NotFound("No such check-in.")
    return shown


def list_mine(
    *, db_session: Session, user: User, limit: int, after: tuple[datetime, int] | None
) -> tuple[list[dict], tuple | None]:
    """My check-ins, newest first (keyset on effective time and id)."""
    conditions = [Checkin.user_id == user.id]
    if after is not None:
        conditions.append(tuple_(Checkin.effective_at, Checkin.id) < tuple_(*after))
    items = _rows(
        db_session,
        *conditions,
        order=(Checkin.effective_at.desc(), Checkin.id.desc()),
        limit=limit + 1,
    )
    more = len(items) > limit
    items = items[:limit]
    last = items[-1] if more else None
    return items, ((last["effective_at"].isoformat(), last["id"]) if last else None)
