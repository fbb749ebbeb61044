"""Points ledger lines for someone other than the person checking in."""

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from service.models import Checkin, PointsEntry, User


def credit(
    db_session: Session,
    user_id: int,
    points: int,
    reason: str,
    now: datetime,
    checkin_id: int | None,
) -> None:
    """A ledger line and the user's total (and the check-in's, when it names one)."""
    db_session.add(
        PointsEntry(
            user_id=user_id, checkin_id=checkin_id, reason=reason, points=points, created_at=now
        )
    )
    db_session.execute(update(User).where(User.id == user_id).values(points=User.points + points))


def credit_checkin(
    db_session: Session, user_id: int, checkin_id: int, points: int, reason: str, now: datetime
) -> None:
    """``credit`` for one of the user's check-ins, whose own total moves too."""
    credit(db_session, user_id, points, reason, now, checkin_id)
    db_session.execute(
        update(Checkin)
        .where(Checkin.user_id == user_id, Checkin.id == checkin_id)
        .values(points=Checkin.points + points)
    )
