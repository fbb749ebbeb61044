"""``seed-demo --friend HANDLE``: the demo users become a newcomer's mutual contacts, and
the named ones check in near Times Square now (through the live check-in), so the
newcomer's feed, nearby list and meetings fill at once."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo import sql as geosql
from service import clock
from service.checkins import service as checkins
from service.errors import NotFound
from service.models import Checkin, User, Venue
from service.rewards.policy import PointsPolicy
from service.seed import demo, people

BUSIEST = 16  # besides the named users: the history's people most active of late
RECENT = timedelta(weeks=4)
FRESH = timedelta(hours=1)  # a named user seen this recently does not check in again
NEAR_M = 1000.0


@dataclass(frozen=True)
class Friended:
    """Who became the newcomer's contacts, and the fresh check-ins (handle, venue)."""

    handle: str
    contacts: list[str]
    fresh: list[tuple[str, str]]


def find(*, db_session: Session, handle: str) -> User:
    """The account with this handle; 404 with the handle when there is none."""
    user = db_session.scalars(
        select(User).where(func.lower(User.handle) == handle.strip().lower())
    ).first()
    if user is None:
        raise NotFound(f"no user with handle {handle!r}: register first, then run this again")
    return user


def _demo_contacts(db_session: Session) -> list[User]:
    """The named users, then the history's people with the most check-ins lately."""
    named = [handle for handle, _ in demo.DEMO_USERS]
    first = db_session.scalars(select(User).where(User.handle.in_(named)).order_by(User.id))
    since = clock.now() - RECENT
    busiest = db_session.scalars(
        select(User)
        .join(Checkin, Checkin.user_id == User.id)
        .where(User.email.endswith(f"@{people.EMAIL_DOMAIN}"), Checkin.effective_at >= since)
        .group_by(User.id)
        .order_by(func.count().desc(), User.id)
        .limit(BUSIEST)
    )
    return [*first, *busiest]


def _places(db_session: Session, count: int) -> list:
    """The busiest venues within a kilometre of Times Square (the nearest first when
    none has check-ins yet)."""
    here = geosql.point(demo.TIMES_SQUARE)
    return db_session.execute(
        select(Venue.id, Venue.name, geosql.latitude(Venue.location).label("lat"))
        .add_columns(geosql.longitude(Venue.location).label("lon"))
        .outerjoin(Checkin, Checkin.venue_id == Venue.id)
        .where(geosql.within_m(Venue.location, here, NEAR_M), Venue.deleted_at.is_(None))
        .group_by(Venue.id)
        .order_by(func.count(Checkin.id).desc(), geosql.distance_m(Venue.location, here))
        .limit(count)
    ).all()


def befriend(
    *, db_session: Session, handle: str, policy: PointsPolicy, checkins_per_hour: int
) -> Friended:
    """Make the demo users ``handle``'s mutual contacts (kept if they were) and have the
    named ones not seen in the last hour check in near Times Square now."""
    newcomer = find(db_session=db_session, handle=handle)
    contacts = [user for user in _demo_contacts(db_session) if user.id != newcomer.id]
    people.befriend(db_session=db_session, pairs=[(newcomer.id, user.id) for user in contacts])
    named = [user for user in contacts if user.handle in dict(demo.DEMO_USERS)]
    fresh = []
    for user, place in zip(named, _places(db_session, len(named)), strict=False):
        latest = db_session.scalar(
            select(func.max(Checkin.created_at)).where(Checkin.user_id == user.id)
        )
        if latest is not None and latest > clock.now() - FRESH:
            continue
        checkins.check_in(
            db_session=db_session,
            user=user,
            policy=policy,
            checkins_per_hour=checkins_per_hour,
            venue_id=place.id,
            location={"lat": place.lat, "lon": place.lon},
            accuracy_m=10.0,
        )
        fresh.append((user.handle, place.name))
    return Friended(newcomer.handle, [user.handle for user in contacts], fresh)


def describe(done: Friended) -> str:
    """What ``--friend`` did, in a line."""
    fresh = ", ".join(f"{handle} at {venue}" for handle, venue in done.fresh) or "none needed"
    return (
        f"{done.handle} now has {len(done.contacts)} demo contacts "
        f"({', '.join(done.contacts[:6])}, ...); checked in just now: {fresh}"
    )
