"""List, add and remove a venue's staff (owner or admin)."""

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.admin import audit
from service.errors import NotFound
from service.models import User, VenueStaff
from service.users.service import get_by_handle
from service.venues import service as venues


def list_staff(*, db_session: Session, user: User, venue_id: int) -> list[dict]:
    """The venue's staff by handle (at most a few dozen people)."""
    venues.get_managed(db_session=db_session, user=user, venue_id=venue_id)
    rows = db_session.execute(
        select(User.handle, User.display_name)
        .join(VenueStaff, VenueStaff.user_id == User.id)
        .where(VenueStaff.venue_id == venue_id)
        .order_by(User.handle)
    )
    return [{"handle": r.handle, "display_name": r.display_name} for r in rows]


def _audit(db_session: Session, user: User, venue, action: str, handle: str) -> None:
    if venues.acting_as_admin(user, venue):
        audit.record(
            db_session,
            admin_id=user.id,
            action=action,
            target_type="venue",
            target_id=venue.id,
            details={"staff": handle},
        )


def add(*, db_session: Session, user: User, venue_id: int, handle: str) -> tuple[dict, bool]:
    """List ``handle`` as staff; ``(person, newly added)``."""
    venue = venues.get_managed(db_session=db_session, user=user, venue_id=venue_id)
    person = get_by_handle(db_session=db_session, handle=handle)
    added = db_session.execute(
        insert(VenueStaff)
        .values(venue_id=venue.id, user_id=person.id)
        .on_conflict_do_nothing()
        .returning(VenueStaff.user_id)
    ).first()
    if added is not None:
        _audit(db_session, user, venue, "staff.add", person.handle)
    return {"handle": person.handle, "display_name": person.display_name}, added is not None


def remove(*, db_session: Session, user: User, venue_id: int, handle: str) -> None:
    """Take ``handle`` off the staff list; 404 if they are not on it."""
    venue = venues.get_managed(db_session=db_session, user=user, venue_id=venue_id)
    person = get_by_handle(db_session=db_session, handle=handle)
    result = db_session.execute(
        delete(VenueStaff).where(VenueStaff.venue_id == venue.id, VenueStaff.user_id == person.id)
    )
    if result.rowcount == 0:
        raise NotFound("That person is not on this venue's staff.")
    _audit(db_session, user, venue, "staff.remove", person.handle)
