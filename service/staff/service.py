"""A venue's staff: the owner invites, the person accepts or declines.

Only staff who accepted are left out of the venue's mayorship and footfall, and only
from the moment they accept, so naming someone never changes past figures. Leaving the
staff (declining after accepting, or being removed) keeps them left out from that moment
on, so leaving never changes past figures either. Staff cannot be mayor: joining or
leaving the staff re-decides the venue's mayor.
"""

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service import clock
from service.admin import audit
from service.common.people import person
from service.errors import Conflict, NotFound
from service.models import User, Venue, VenueStaff
from service.notifications import messages, outbox
from service.rewards import award
from service.users.service import get_by_handle
from service.venues import service as venues


def list_staff(*, db_session: Session, user: User, venue_id: int) -> list[dict]:
    """The venue's staff and open invitations by handle (at most a few dozen people)."""
    venues.get_managed(db_session=db_session, user=user, venue_id=venue_id)
    staff = db_session.execute(
        select(VenueStaff.user_id, VenueStaff.status, VenueStaff.accepted_at).where(
            VenueStaff.venue_id == venue_id
        )
    ).all()
    # the people apart from the staff rows: on Citus staff are sharded by venue and users
    # by id, which one statement cannot join
    people = {
        row.id: row
        for row in db_session.execute(
            select(User.id, User.handle, User.display_name).where(
                User.id.in_(sorted({s.user_id for s in staff}))
            )
        )
    }
    shown = [
        {
            **person(people[s.user_id].handle, people[s.user_id].display_name),
            "status": s.status,
            "accepted_at": s.accepted_at,
        }
        for s in staff
        if s.user_id in people
    ]
    return sorted(shown, key=lambda member: member["handle"])


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


def invite(*, db_session: Session, user: User, venue_id: int, handle: str) -> tuple[dict, bool]:
    """Invite ``handle`` to be staff; ``(person, newly invited)``. Nothing changes for
    anyone until they accept; someone who declined is not asked again."""
    venue = venues.get_managed(db_session=db_session, user=user, venue_id=venue_id)
    invited = get_by_handle(db_session=db_session, handle=handle)
    row = db_session.execute(
        insert(VenueStaff)
        .values(venue_id=venue.id, user_id=invited.id, invited_at=clock.now())
        .on_conflict_do_nothing()
        .returning(VenueStaff.id)
    ).first()
    if row is not None:
        _audit(db_session, user, venue, "staff.invite", invited.handle)
        shown = {"id": venue.id, "name": venue.name}
        outbox.queue(
            db_session,
            messages.staff_invitation(user_id=invited.id, venue=shown, invitation_id=row.id),
        )
    current = db_session.scalar(
        select(VenueStaff).where(VenueStaff.venue_id == venue.id, VenueStaff.user_id == invited.id)
    )
    if current.status == "declined":
        raise Conflict(f"{invited.handle} declined to be listed as staff here.")
    if current.status == "ended":
        raise Conflict(
            f"{invited.handle} has left the staff here; they can rejoin from their invitations."
        )
    view = person(invited.handle, invited.display_name)
    return view | {"status": current.status, "accepted_at": current.accepted_at}, row is not None


def remove(
    *, db_session: Session, user: User, venue_id: int, handle: str, mayorship_points: int
) -> None:
    """Withdraw an open invitation, or take someone who accepted off the staff (they stay
    left out from their acceptance on: removing them must not reveal their past visits);
    404 if they are neither."""
    venue = venues.get_managed(db_session=db_session, user=user, venue_id=venue_id)
    member = get_by_handle(db_session=db_session, handle=handle)
    row = db_session.scalar(
        select(VenueStaff)
        .where(VenueStaff.venue_id == venue.id, VenueStaff.user_id == member.id)
        .with_for_update()
    )
    if row is None or row.status in ("declined", "ended"):
        raise NotFound("That person is not on this venue's staff.")
    _audit(db_session, user, venue, "staff.remove", member.handle)
    if row.status == "invited":
        db_session.delete(row)
        db_session.flush()
        return
    row.status, row.decided_at = "ended", clock.now()
    db_session.flush()
    award.redecide_mayor(
        db_session=db_session, venue=venue, now=row.decided_at, points=mayorship_points
    )


def my_invitations(
    *, db_session: Session, user: User, limit: int, after: tuple | None
) -> tuple[list[dict], tuple | None]:
    """Venues that invited me, newest first (keyset on invited_at, id)."""
    query = (
        select(VenueStaff, Venue.name)
        .join(Venue, Venue.id == VenueStaff.venue_id)
        .where(VenueStaff.user_id == user.id)
        .order_by(VenueStaff.invited_at.desc(), VenueStaff.id.desc())
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(tuple_(VenueStaff.invited_at, VenueStaff.id) < tuple_(*after))
    rows = db_session.execute(query).all()
    last = rows[limit - 1].VenueStaff if len(rows) > limit else None
    items = [_invitation(row.VenueStaff, row.name) for row in rows[:limit]]
    return items, ((last.invited_at, last.id) if last else None)


def answer(
    *, db_session: Session, user: User, invitation_id: int, accept: bool, mayorship_points: int
) -> dict:
    """Accept or decline an invitation of mine (404 for anyone else's)."""
    row = _invitation_of(db_session, user.id, invitation_id)
    if row is None:
        raise NotFound("No such invitation.")
    venue = db_session.get(Venue, row.venue_id)
    now = clock.now()
    before = row.status
    if accept and row.status != "accepted":
        # rejoining after leaving keeps the first acceptance: the exclusion never had a gap
        row.status, row.accepted_at, row.decided_at = "accepted", row.accepted_at or now, now
    elif not accept and row.status in ("invited", "accepted"):
        # leaving keeps accepted_at: the visits from then on stay out of the figures
        row.status, row.decided_at = ("ended" if row.status == "accepted" else "declined"), now
    db_session.flush()
    if before != row.status and "accepted" in (before, row.status):
        # staff cannot be mayor: joining or leaving the staff moves the standings
        award.redecide_mayor(db_session=db_session, venue=venue, now=now, points=mayorship_points)
    return _invitation(row, venue.name)


def _invitation_of(db_session: Session, user_id: int, invitation_id: int) -> VenueStaff | None:
    """My invitation, locked (None: not mine or no such)."""
    # its venue first (one scan, nothing locked), then the lock by its key: on Citus a
    # lock must name the venue, the shard the invitation lives on
    venue_id = db_session.scalar(
        select(VenueStaff.venue_id).where(
            VenueStaff.id == invitation_id, VenueStaff.user_id == user_id
        )
    )
    if venue_id is None:
        return None
    return db_session.scalar(
        select(VenueStaff)
        .where(
            VenueStaff.venue_id == venue_id,
            VenueStaff.user_id == user_id,
            VenueStaff.id == invitation_id,
        )
        .with_for_update()
    )


def _invitation(row: VenueStaff, venue_name: str) -> dict:
    return {
        "id": row.id,
        "venue": {"id": row.venue_id, "name": venue_name},
        "status": row.status,
        "invited_at": row.invited_at,
        "accepted_at": row.accepted_at,
        "decided_at": row.decided_at,
    }
