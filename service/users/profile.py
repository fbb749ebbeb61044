"""A public profile: live for its owner and their contacts; for anyone else as of the
start of the current UTC day, so polling it never shows the moment someone checks in
(a count ticking) or meets someone (+50 points)."""

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.common.people import person
from service.models import Checkin, PointsEntry, User
from service.presence import visibility
from service.rewards import service as rewards


def start_of_day(now: datetime) -> datetime:
    """Midnight UTC of ``now``'s day."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def public_profile(*, db_session: Session, viewer_id: int, user: User, now: datetime) -> dict:
    """What ``viewer_id`` may see of ``user``'s profile (never a location)."""
    live = user.id == viewer_id or visibility.is_contact(db_session, viewer_id, user.id)
    as_of = None if live else start_of_day(now)
    points, checkins = user.points, user.checkin_count
    if as_of is not None:
        points -= db_session.scalar(
            select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
                PointsEntry.user_id == user.id, PointsEntry.created_at >= as_of
            )
        )
        checkins -= db_session.scalar(
            select(func.count()).where(Checkin.user_id == user.id, Checkin.created_at >= as_of)
        )
    return {
        **person(user.handle, user.display_name),
        "points": points,
        "checkin_count": checkins,
        "badges": rewards.badges_of(db_session=db_session, user_id=user.id, as_of=as_of),
        "created_at": user.created_at,
        "as_of": as_of,
    }


def public_badges(*, db_session: Session, viewer_id: int, user: User, now: datetime) -> list:
    """``user``'s badges as ``viewer_id`` may see them (as of today's start for strangers)."""
    live = user.id == viewer_id or visibility.is_contact(db_session, viewer_id, user.id)
    return rewards.badges_of(
        db_session=db_session, user_id=user.id, as_of=None if live else start_of_day(now)
    )
