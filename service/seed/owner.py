"""The demo owner: ``owner`` owns the busiest venues of the history through claims an
operator approved (audited, as ``flask approve-claim`` does), so ``/owner/`` shows
charts at once."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.auth import service as accounts
from service.claims import service as claims
from service.models import Checkin, User, Venue

HANDLE = "owner"
DISPLAY_NAME = "Demo Owner"
VENUES = 5
NOTE = "Demo owner of the seeded city's busiest venues."


def account(*, db_session: Session) -> User | None:
    """The demo owner's account, if there is one."""
    return db_session.scalars(select(User).where(func.lower(User.handle) == HANDLE)).first()


def owned(*, db_session: Session, user_id: int) -> list[str]:
    """The names of the live venues the user owns, busiest first."""
    return list(
        db_session.scalars(
            select(Venue.name)
            .outerjoin(Checkin, Checkin.venue_id == Venue.id)
            .where(Venue.owner_id == user_id, Venue.deleted_at.is_(None))
            .group_by(Venue.id)
            .order_by(func.count(Checkin.id).desc(), Venue.id)
        )
    )


def busiest(db_session: Session, people, count: int = VENUES) -> list[int]:
    """The venues where ``people`` (a query of user ids) checked in most that nobody owns
    yet."""
    return list(
        db_session.scalars(
            select(Checkin.venue_id)
            .join(Venue, Venue.id == Checkin.venue_id)
            .where(
                Checkin.user_id.in_(people),
                Venue.owner_id.is_(None),
                Venue.deleted_at.is_(None),
            )
            .group_by(Checkin.venue_id)
            .order_by(func.count().desc(), Checkin.venue_id)
            .limit(count)
        )
    )


def seed(*, db_session: Session, password: str, people) -> list[str]:
    """Create the owner (kept if there) and have their claims on the venues ``people``
    (a query of user ids) made busiest approved; the names of the venues they own."""
    user = account(db_session=db_session)
    if user is None:
        user = accounts.register(
            db_session=db_session,
            handle=HANDLE,
            email=f"{HANDLE}@demo.irl.example",
            password=password,
            display_name=DISPLAY_NAME,
        )
    for venue_id in busiest(db_session, people):
        claim = claims.ask(db_session=db_session, user=user, venue_id=venue_id, note=NOTE)
        claims.approve(db_session=db_session, claim_id=claim["id"], admin_id=None)
    return owned(db_session=db_session, user_id=user.id)
