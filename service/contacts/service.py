"""Contact use cases: import follow lists, follow and unfollow, list."""

from sqlalchemy import BigInteger, any_, bindparam, func, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from service import clock
from service.common.people import person
from service.contacts import pairs, pending
from service.errors import DomainError, NotFound
from service.identities import faces, verified
from service.identities.handles import try_normalise
from service.models import Identity, Relationship, User
from service.users import names
from service.users.service import get_by_handle


def import_handles(
    *, db_session: Session, user: User, network: str, handles: list[str], pending_cap: int
) -> dict:
    """Follow every IRL user among ``handles`` (through their verified identity); remember
    the others (the newest ``pending_cap`` per network) for when they verify."""
    canonical = {try_normalise(network, raw) for raw in handles}
    invalid = sum(1 for raw in handles if try_normalise(network, raw) is None)
    canonical.discard(None)
    # a verification or an unlink of one of these handles (which adopts pending follows,
    # or withdraws follows) waits for this import, or this import waits for it and reads
    # what it committed
    verified.lock_for_import(db_session, network, canonical)
    owners = verified.owners(db_session, network, canonical)
    found = names.people(db_session, (o for o in owners.values() if o != user.id))
    matched = sorted(
        ((handle, owner) for handle, owner in owners.items() if owner in found),
        key=lambda match: found[match[1]]["handle"].lower(),
    )
    pairs.follow(db_session, user.id, [owner for _, owner in matched], via=network)
    unmatched = sorted(set(canonical) - set(owners) - _my_handle(db_session, user, network))
    pending.remember(db_session, user.id, network, unmatched, cap=pending_cap, now=clock.now())
    mutual = _mutual_with(db_session, user.id, [owner for _, owner in matched])
    return {
        "network": network,
        "matched": [
            {"network_handle": handle, **found[owner], "mutual": owner in mutual}
            for handle, owner in matched
        ],
        "matched_count": len(matched),
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
    """People I follow, ordered by handle (keyset on lower(handle), id): my relationship
    rows first (my side), then a page of those people (theirs), never joined."""
    mine = select(
        Relationship.other_id,
        Relationship.mutual,
        Relationship.met_in_person,
        Relationship.first_met_at,
        Relationship.meetings,
    ).where(Relationship.user_id == user.id, Relationship.i_follow)
    if mutual is not None:
        mine = mine.where(Relationship.mutual.is_(mutual))
    followed = {row.other_id: row for row in db_session.execute(mine)}
    if not followed:
        return [], None
    key = func.lower(User.handle)
    query = (
        select(User.id, User.handle, User.display_name)
        .where(User.id == any_(bindparam("followed", sorted(followed), type_=ARRAY(BigInteger))))
        .order_by(key, User.id)
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(tuple_(key, User.id) > tuple_(after[0], after[1]))
    rows = db_session.execute(query).all()
    items = [
        {
            **person(r.handle, r.display_name),
            "mutual": followed[r.id].mutual,
            "met_in_person": followed[r.id].met_in_person,
            "first_met_at": followed[r.id].first_met_at,
            "meetings": followed[r.id].meetings,
        }
        for r in rows[:limit]
    ]
    faces.show(
        db_session, viewer_id=user.id, people=zip((r.id for r in rows[:limit]), items, strict=True)
    )
    last = rows[limit - 1] if len(rows) > limit else None
    return items, ((last.handle.lower(), last.id) if last else None)
