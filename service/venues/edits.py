"""Venue edits: who may change or delete a venue, and what a move carries with it.

A venue's position and time zone are what others' history was judged against: the
local day of each check-in (``checkins.local_day``), mayorship days and the footfall
rollup are all in the venue's zone. So once anyone has checked in, the zone is fixed (a
move to another zone is refused, 422), and once someone *other than its creator* has
checked in, only the owner or an admin may change or delete it. Events copy their
venue's position (for their own GiST index): a move moves them too.
"""

from datetime import UTC, datetime

from sqlalchemy import exists, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from geo import sql as geosql
from geo.cities import city_of
from geo.coords import LatLon
from geo.timezones import timezone_at
from service.admin import audit
from service.errors import DomainError, Forbidden
from service.models import Checkin, Event, User, Venue
from service.venues.service import get, to_dict

NOT_YOURS = (
    "Only the venue's owner or an admin can {action} it: its creator may until it is claimed "
    "or someone else has checked in there."
)


def _checked_in(db_session: Session, venue: Venue, *, others_only: bool) -> bool:
    """True when someone (anyone but the creator, with ``others_only``) checked in here."""
    condition = Checkin.venue_id == venue.id
    if others_only and venue.created_by is not None:
        condition = condition & (Checkin.user_id != venue.created_by)
    return db_session.scalar(select(exists().where(condition)))


def rights_of(db_session: Session, user: User, venue: Venue) -> bool:
    """True when ``user`` may change the venue without the admin role: its owner once
    claimed; its creator until then, and only while nobody else has checked in there."""
    if venue.owner_id is not None:
        return venue.owner_id == user.id
    if venue.created_by != user.id:
        return False
    return not _checked_in(db_session, venue, others_only=True)


def _editable(db_session: Session, user: User, venue_id: int, action: str) -> tuple:
    """``(venue, audited)``: the venue locked for the change, and whether only the admin
    role allows it (so it goes to the audit log); 403 for anyone else."""
    venue = get(db_session=db_session, venue_id=venue_id, for_update=True)
    if rights_of(db_session, user, venue):
        return venue, False
    if not user.is_admin:
        raise Forbidden(NOT_YOURS.format(action=action))
    return venue, True


def _move(db_session: Session, venue: Venue, position: LatLon) -> None:
    """Put the venue (its events, and where people were last seen there) at
    ``position``; 422 if that changes the time zone of a venue with check-ins."""
    zone = timezone_at(position)
    if zone != venue.timezone and _checked_in(db_session, venue, others_only=False):
        raise DomainError(
            f"This venue has check-ins, whose days are counted in {venue.timezone}; the new "
            f"position is in {zone}. Move it within {venue.timezone}, or create a new venue "
            "at the new place.",
            errors={"json": {"location": ["Would change the venue's time zone."]}},
        )
    venue.location = geosql.point(position)
    venue.timezone = zone
    venue.city = city_of(position)
    db_session.execute(
        sql_update(Event).where(Event.venue_id == venue.id).values(location=venue.location)
    )
    # whoever was last seen here is now seen at the venue's new point (``presence.seen``;
    # a rare write, so no index: a pass over ``users``)
    db_session.execute(
        sql_update(User)
        .where(User.seen_venue_id == venue.id)
        .values(seen_location=venue.location)
        .execution_options(synchronize_session=False)
    )


def update(*, db_session: Session, user: User, venue_id: int, changes: dict) -> dict:
    """Edit a venue (see ``rights_of``; admins too); a move carries its events along."""
    venue, audited = _editable(db_session, user, venue_id, "change")
    position = None
    if "location" in changes:
        position = LatLon(**changes.pop("location"))
        _move(db_session, venue, position)
    for key, value in changes.items():
        setattr(venue, key, value.strip() if isinstance(value, str) else value)
    if audited:
        audit.record(
            db_session,
            admin_id=user.id,
            action="venue.update",
            target_type="venue",
            target_id=venue.id,
            details={"fields": sorted(changes) + (["location"] if position else [])},
        )
    db_session.flush()
    return to_dict(venue, position)


def delete(*, db_session: Session, user: User, venue_id: int) -> None:
    """Hide a venue from search and lookups (its events too), keeping its history."""
    venue, audited = _editable(db_session, user, venue_id, "delete")
    venue.deleted_at = datetime.now(UTC)
    if audited:
        audit.record(
            db_session,
            admin_id=user.id,
            action="venue.delete",
            target_type="venue",
            target_id=venue.id,
        )
    db_session.flush()
