"""Link and unlink online identities; linking turns pending imports into follows."""

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.contacts import pairs
from service.errors import Conflict, NotFound
from service.identities.handles import normalise
from service.models import Identity, PendingFollow, User


def link(*, db_session: Session, user: User, network: str, handle: str) -> tuple[Identity, bool]:
    """Link (or replace) my identity on a network; 409 if someone else holds it."""
    canonical = normalise(network, handle)
    identity = db_session.get(Identity, (user.id, network))
    created = identity is None
    if created:
        identity = Identity(user_id=user.id, network=network, handle=canonical)
        db_session.add(identity)
    else:
        identity.handle = canonical
    try:
        with db_session.begin_nested():
            db_session.flush()
    except IntegrityError as exc:
        raise Conflict(f"That {network} handle is linked to another account.") from exc
    _adopt_pending(db_session, user.id, network, canonical)
    return identity, created


def _adopt_pending(db_session: Session, user_id: int, network: str, handle: str) -> None:
    """People who imported this handle before I linked it now follow me."""
    followers = list(
        db_session.scalars(
            delete(PendingFollow)
            .where(PendingFollow.network == network, PendingFollow.handle == handle)
            .returning(PendingFollow.follower_id)
        )
    )
    for follower in sorted(followers):
        pairs.follow(db_session, follower, [user_id], via=network)


def list_mine(*, db_session: Session, user: User) -> list[Identity]:
    """My identities, by network."""
    return list(
        db_session.scalars(
            select(Identity).where(Identity.user_id == user.id).order_by(Identity.network)
        )
    )


def unlink(*, db_session: Session, user: User, network: str) -> None:
    """Remove my identity on a network (follows already made stay); 404 if none."""
    removed = db_session.execute(
        delete(Identity).where(Identity.user_id == user.id, Identity.network == network)
    ).rowcount
    if not removed:
        raise NotFound(f"No {network} identity is linked.")
