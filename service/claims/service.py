"""Claim use cases: ask, list, approve, reject; the venues I own."""

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geo.sql import latitude, longitude
from service import clock
from service.admin import audit
from service.database import one_connection_per_node
from service.errors import Conflict, NotFound
from service.models import User, Venue, VenueClaim
from service.venues import service as venues

OTHER_APPROVED = "Another claim for this venue was approved."


def view(claim: VenueClaim, venue_name: str | None = None, handle: str | None = None) -> dict:
    """A claim as the API shows it."""
    shown = {
        "id": claim.id,
        "venue_id": claim.venue_id,
        "status": claim.status,
        "note": claim.note,
        "created_at": claim.created_at,
        "decided_at": claim.decided_at,
        "reason": claim.reason,
    }
    if venue_name is not None:
        shown["venue_name"] = venue_name
    if handle is not None:
        shown["claimant"] = handle
    return shown


def ask(*, db_session: Session, user: User, venue_id: int, note: str | None) -> dict:
    """A pending claim on a live venue; 409 if it has an owner or I already asked."""
    venue = venues.get(db_session=db_session, venue_id=venue_id)
    if venue.owner_id == user.id:
        raise Conflict("You already own this venue.")
    if venue.owner_id is not None:
        raise Conflict("This venue already has an owner.")
    claim = db_session.scalars(
        insert(VenueClaim)
        .values(venue_id=venue.id, user_id=user.id, note=note, created_at=clock.now())
        .on_conflict_do_nothing()
        .returning(VenueClaim)
    ).first()
    if claim is None:
        raise Conflict("You already have a pending claim for this venue.")
    return view(claim, venue.name)


def list_claims(
    *,
    db_session: Session,
    limit: int,
    before: int | None,
    user_id: int | None = None,
    status: str | None = None,
) -> tuple[list[dict], int | None]:
    """Claims, newest first: mine (``user_id``), or all of one status (admins)."""
    query = (
        select(VenueClaim, Venue.name)
        .join(Venue, Venue.id == VenueClaim.venue_id)
        .order_by(VenueClaim.id.desc())
        .limit(limit + 1)
    )
    if user_id is not None:
        query = query.where(VenueClaim.user_id == user_id)
    if status is not None:
        query = query.where(VenueClaim.status == status)
    if before is not None:
        query = query.where(VenueClaim.id < before)
    rows = db_session.execute(query).all()
    more = len(rows) > limit
    handles = _handles(db_session, {r.VenueClaim.user_id for r in rows[:limit]})
    items = [view(r.VenueClaim, r.name, handles.get(r.VenueClaim.user_id)) for r in rows[:limit]]
    return items, (rows[limit - 1].VenueClaim.id if more else None)


def _handles(db_session: Session, user_ids: set[int]) -> dict[int, str]:
    """The handles of the claimants. Read apart from their claims: on Citus claims are
    sharded by venue and users by id, which one statement cannot join."""
    if not user_ids:
        return {}
    found = select(User.id, User.handle).where(User.id.in_(sorted(user_ids)))
    return dict(db_session.execute(found).all())


def _venue_of(db_session: Session, claim_id: int) -> int:
    """The venue a claim is for; 404 if there is no such claim. Nothing is locked: on
    Citus claims are sharded by venue, and a lock must name the shard."""
    venue_id = db_session.scalar(select(VenueClaim.venue_id).where(VenueClaim.id == claim_id))
    if venue_id is None:
        raise NotFound("No such claim.")
    return venue_id


def _pending(db_session: Session, venue_id: int, claim_id: int) -> VenueClaim:
    """The pending claim, locked by its key; 404 if gone, 409 if it was decided."""
    claim = db_session.scalars(
        select(VenueClaim)
        .where(VenueClaim.venue_id == venue_id, VenueClaim.id == claim_id)
        .with_for_update()
    ).first()
    if claim is None:
        raise NotFound("No such claim.")
    if claim.status != "pending":
        raise Conflict(f"This claim was already {claim.status}.")
    return claim


def approve(*, db_session: Session, claim_id: int, admin_id: int | None) -> dict:
    """Make the claimant the owner; other pending claims on the venue are rejected."""
    one_connection_per_node(db_session)  # it reads every venue's claims, then writes one
    venue_id = _venue_of(db_session, claim_id)
    # the venue before the claim: approvals of rival claims queue on the venue instead
    # of each holding its claim while it rejects the other's
    venue = venues.get(db_session=db_session, venue_id=venue_id, for_update=True)
    claim = _pending(db_session, venue_id, claim_id)
    if venue.owner_id is not None:
        raise Conflict("This venue already has an owner; reject this claim instead.")
    now = clock.now()
    venue.owner_id = claim.user_id
    claim.status, claim.decided_at, claim.decided_by = "approved", now, admin_id
    others = db_session.execute(
        update(VenueClaim)
        .where(VenueClaim.venue_id == venue.id, VenueClaim.status == "pending")
        .values(status="rejected", decided_at=now, decided_by=admin_id, reason=OTHER_APPROVED)
        .returning(VenueClaim.id)
    ).scalars()
    audit.record(
        db_session,
        admin_id=admin_id,
        action="claim.approve",
        target_type="claim",
        target_id=claim.id,
        details={
            "venue_id": venue.id,
            "owner_id": claim.user_id,
            "rejected_claims": list(others),
        },
    )
    db_session.flush()
    return view(claim, venue.name)


def reject(*, db_session: Session, claim_id: int, admin_id: int | None, reason: str | None) -> dict:
    """Turn a pending claim down, saying why."""
    claim = _pending(db_session, _venue_of(db_session, claim_id), claim_id)
    claim.status, claim.decided_at, claim.decided_by = "rejected", clock.now(), admin_id
    claim.reason = reason
    audit.record(
        db_session,
        admin_id=admin_id,
        action="claim.reject",
        target_type="claim",
        target_id=claim.id,
        details={"venue_id": claim.venue_id, "reason": reason},
    )
    db_session.flush()
    return view(claim)


def owned_venues(
    *, db_session: Session, user_id: int, limit: int, before: int | None
) -> tuple[list[dict], int | None]:
    """The live venues I own, newest id first."""
    query = (
        select(Venue, latitude(Venue.location).label("lat"), longitude(Venue.location).label("lon"))
        .where(Venue.owner_id == user_id, Venue.deleted_at.is_(None))
        .order_by(Venue.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(Venue.id < before)
    rows = db_session.execute(query).all()
    more = len(rows) > limit
    items = [venues.view(r.Venue, r.Venue.id, r.lat, r.lon) for r in rows[:limit]]
    return items, (rows[limit - 1].Venue.id if more else None)
