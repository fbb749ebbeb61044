"""Nearby-friends fan-out (PRODUCT.md): when A checks in publicly, tell every contact B
whose latest visible check-in is at most 3 h old and within B's own nearby radius.

A is placed where A's sharing lets contacts see A: the venue, distance rounded to 100 m
(``exact``), or only A's snapped cell, distance from it rounded to 500 m
(``approximate``). B's radius is tested against that same shown point, so whether B is
told leaks nothing finer. At most one notification per (A, B) in 6 hours — A's
check-ins are serialised by A's user lock, so reading the inbox is exact — and at most
B's daily cap per B-local day, kept exact when senders race by a conditional upsert.
"""

from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Float,
    Integer,
    bindparam,
    exists,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session, aliased

from geo import sql as geosql
from geo.coords import LatLon
from geo.privacy import APPROXIMATE_ROUNDING_M, EXACT_ROUNDING_M, round_distance
from service.common.people import person
from service.common.plans import custom_plans
from service.models import Checkin, NearbyQuota, Notification, User, Venue
from service.notifications import kinds, messages, outbox
from service.notifications.quiet import local_day
from service.presence import shaping, visibility

RECENT = timedelta(hours=3)
COOLDOWN = timedelta(hours=6)


@lru_cache(maxsize=1)
def _candidates_statement():
    """Of the given contacts, those to tell, with their cap, time zone and distance to A's
    shown point; built once. Each contact's row is read by key (where their latest
    visible check-in is kept, ``presence.seen``), so the cost follows A's contacts, not
    the size of the tables; their inbox is probed on their own rows (co-located)."""
    sender = bindparam("sender_id", type_=BigInteger)
    shown = geosql.point_of(bindparam("lat", type_=Float), bindparam("lon", type_=Float))
    receiver = aliased(User, name="receiver")
    cooling = exists().where(
        Notification.user_id == receiver.id,
        Notification.actor_id == sender,
        Notification.kind == kinds.NEARBY,
        Notification.created_at > bindparam("cooldown_since", type_=DateTime(timezone=True)),
    )
    return (
        select(
            receiver.id.label("other_id"),
            receiver.nearby_daily_cap,
            func.coalesce(receiver.timezone, receiver.last_timezone, "UTC").label("zone"),
            geosql.distance_m(receiver.seen_location, shown).label("distance_m"),
        )
        .where(
            visibility.among(receiver.id, bindparam("contacts", type_=ARRAY(BigInteger))),
            receiver.notify_nearby,
            visibility.sharing(receiver),
            receiver.nearby_daily_cap > 0,
            receiver.seen_at >= bindparam("since", type_=DateTime(timezone=True)),
            geosql.within_m(receiver.seen_location, shown, receiver.nearby_radius_m),
            ~cooling,
        )
        .order_by(receiver.id)
    )


@lru_cache(maxsize=1)
def _quota_statement():
    """Count one nearby notification per (receiver, local day) still under its cap, from
    three arrays; built once. Rows go in receiver order, so racing fan-outs lock them in
    the same order."""
    given = (
        func.unnest(
            bindparam("user_ids", type_=ARRAY(BigInteger)),
            bindparam("days", type_=ARRAY(Date)),
            bindparam("caps", type_=ARRAY(Integer)),
        )
        .table_valued("user_id", "local_day", "cap")
        .render_derived()
    )
    # the one as SQL, not a parameter: Citus runs this INSERT ... SELECT through the
    # coordinator and sends its parameters to the shards without their types
    one = literal_column("1", Integer)
    statement = insert(NearbyQuota.__table__).from_select(
        ["user_id", "local_day", "sent", "cap"],
        select(given.c.user_id, given.c.local_day, one, given.c.cap).order_by(given.c.user_id),
    )
    return statement.on_conflict_do_update(
        index_elements=[NearbyQuota.user_id, NearbyQuota.local_day],
        set_={"sent": NearbyQuota.sent + one, "cap": statement.excluded.cap},
        where=NearbyQuota.sent < statement.excluded.cap,
    ).returning(NearbyQuota.user_id)


def _take_quota(db_session: Session, receivers: list[tuple[int, object, int]]) -> set[int]:
    """The receivers, of ``(receiver, local day, cap)``, that may get one more today."""
    user_ids, days, caps = zip(*receivers, strict=True)
    return set(
        db_session.scalars(
            _quota_statement(), {"user_ids": list(user_ids), "days": list(days), "caps": list(caps)}
        )
    )


def fan_out(
    *,
    db_session: Session,
    sender: User,
    checkin: Checkin,
    venue: Venue,
    venue_position: LatLon,
    now: datetime,
    contacts: list[int],
    met: frozenset[int] = frozenset(),
) -> int:
    """Queue the nearby notifications this check-in causes; returns how many.
    ``contacts``: the sender's mutual contacts, read when their pairs were locked.
    Contacts in ``met`` (this check-in just met them) hear of the meeting instead."""
    if checkin.private or sender.location_sharing == "off" or checkin.effective_at < now - RECENT:
        return 0
    if not contacts:
        return 0
    shown = shaping.shown_position(sender.id, sender.location_sharing, venue_position)
    with custom_plans(db_session):  # a generic plan was measured 6x slower
        rows = (
            db_session.connection()
            .execute(
                _candidates_statement(),
                {
                    "contacts": contacts,
                    "sender_id": sender.id,
                    "lat": shown.lat,
                    "lon": shown.lon,
                    "since": now - RECENT,
                    "cooldown_since": now - COOLDOWN,
                },
            )
            .all()
        )
    rows = [row for row in rows if row.other_id not in met]
    if not rows:
        return 0
    granted = _take_quota(
        db_session,
        [(row.other_id, local_day(now, row.zone), row.nearby_daily_cap) for row in rows],
    )
    exact = sender.location_sharing == "exact"
    step = EXACT_ROUNDING_M if exact else APPROXIMATE_ROUNDING_M
    venue_view = (
        {"id": venue.id, "name": venue.name, "location": venue_position.as_dict()}
        if exact
        else None
    )
    who = person(sender.handle, sender.display_name)
    for row in rows:
        if row.other_id in granted:
            outbox.queue(
                db_session,
                messages.nearby(
                    receiver_id=row.other_id,
                    sender=who,
                    sender_id=sender.id,
                    venue=venue_view,
                    location=shown.as_dict(),
                    distance_m=round_distance(row.distance_m, step),
                    step_m=step,
                    checkin_id=checkin.id,
                ),
            )
    return len(granted)
