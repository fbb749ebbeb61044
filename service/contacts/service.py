"""Contact use cases: import follow lists, follow and unfollow, list."""

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from service import clock
from service.common.people import person
from service.contacts import pairs, pending
from service.errors import DomainError, NotFound
from service.identities import faces
from service.identities.handles import try_normalise
from service.models import Identity, Relationship, User
from service.users.service import get_by_handle


def import_handles(
    *, db_session: Session, user: User, network: str, handles: list[str], pending_cap: int
) -> dict:
    """Follow every IRL user among ``handles`` (through their verified identity); remember
    the others (the newest ``pending_cap`` per network) for when they verify."""
    canonical = {try_normalise(network, raw) for raw in handles}
    invalid = sum(1 for raw in handles if try_normalise(network, raw) is None)
    canonical.discard(None)
    # every claim of these handles, held FOR SHARE: a verification (which updates its
    # claim and adopts pending follows) or an unlink (which withdraws follows) of one of
    # them waits for this import, or this import reads what it committed
    db_session.execute(
        select(Identity.user_id)
        .where(Identity.network == network, Identity.handle.in_(sorted(canonical)))
        .order_by(Identity.user_id)
        .with_for_update(read=True)
    )
    matched_rows = db_session.execute(
        select(Identity.handle, User.id, User.handle, User.display_name)
        .join(User, User.id == Identity.user_id)
        .where(
            Identity.network == network,
            Identity.handle.in_(sorted(canonical)),
            Identity.verified_at.is_not(None),
            User.id != user.id,
        )
        .order_by(func.lower(User.handle))
    ).all()
    matched_handles = {row[0] for row in matched_rows}
    pairs.follow(db_session, user.id, [row[1] for row in matched_rows], via=network)
    unmatched = sorted(canonical - matched_handles - _my_handle(db_session, user, network))
    pending.remember(db_session, user.id, network, unmatched, cap=pending_cap, now=clock.now())
    mutual = _mutual_with(db_session, user.id, [row[1] for row in matched_rows])
    return {
        "network": network,
        "matched": [
            {
                "network_handle": row[0],
                **person(row[2], row[3]),
                "mutual": row[1] in mutual,
            }
            for row in matched_rows
        ],
        "matched_count": len(matched_rows),
        "unmatched_count": len(unmatched),
        "invalid_count": invalid,
    }


def _my_handle(db_session: Session, user: User, network: str) -> set[str]:
    mine = db_session.scalar(
        select(Identity.handle).where(Identity.user_id == user.id, Identity.network == network)
    )
    return {mine} if mine else set()


def _mutual_with(db_session: Session, user_id: int, others: list[int]) -> set[int]:
    if not others:
        return set()
    return set(
        db_session.scalars(
            select(Relationship.other_id).where(
                Relationship.user_id == user_id,
                Relationship.other_id.in_(others),
                Relationship.mutual,
            )
        )
    )


def follow_handle(*, db_session: Session, user: User, handle: str) -> dict:
    """Follow an IRL user directly; 404 if unknown, 422 for myself."""
    other = get_by_handle(db_session=db_session, handle=handle)
    if other.id == user.id:
        raise DomainError("You cannot follow yourself.")
    pairs.follow(db_session, user.id, [other.id], via="app")
    return contact_view(db_session=db_session, user=user, other=other)


def unfollow_handle(*, db_session: Session, user: User, handle: str) -> None:
    """Stop following someone on every network; 404 if I did not follow them."""
    other = get_by_handle(db_session=db_session, handle=handle)
    if not pairs.unfollow(db_session, user.id, other.id):
        raise NotFound("You do not follow that user.")


def contact_view(*, db_session: Session, user: User, other: User) -> dict:
    """One contact as ``GET /me/contacts`` shows it."""
    rel = db_session.get(Relationship, (user.id, other.id), populate_existing=True)
    shown = {
        **person(other.handle, other.display_name),
        "mutual": bool(rel and rel.mutual),
        "met_in_person": bool(rel and rel.met_in_person),
        "first_met_at": rel.first_met_at if rel else None,
        "meetings": rel.meetings if rel else 0,
    }
    faces.show(db_session, viewer_id=user.id, people=[(other.id, shown)])
    return shown


def list_contacts(
    *, db_session: Session, user: User, limit: int, after: tuple | None, mutual: bool | None
) -> tuple[list[dict], tuple | None]:
    """People I follow, ordered by handle (keyset on lower(handle), id)."""
    key = func.lower(User.handle)
    query = (
        select(
            User.id,
            User.handle,
            User.display_name,
            Relationship.mutual,
            Relationship.met_in_person,
            Relationship.first_met_at,
            Relationship.meetings,
        )
        .join(Relationship, Relationship.other_id == User.id)
        .where(Relationship.user_id == user.id, Relationship.i_follow)
        .order_by(key, User.id)
        .limit(limit + 1)
    )
    if mutual is not None:
        query = query.where(Relationship.mutual.is_(mutual))
    if after is not None:
        query = query.where(tuple_(key, User.id) > tuple_(after[0], after[1]))
    rows = db_session.execute(query).all()
    items = [
        {
            **person(r.handle, r.display_name),
            "mutual": r.mutual,
            "met_in_person": r.met_in_person,
            "first_met_at": r.first_met_at,
            "meetings": r.meetings,
        }
        for r in rows[:limit]
    ]
    faces.show(
        db_session, viewer_id=user.id, people=zip((r.id for r in rows[:limit]), items, strict=True)
    )
    last = rows[limit - 1] if len(rows) > limit else None
    return items, ((last.handle.lower(), last.id) if last else None)
