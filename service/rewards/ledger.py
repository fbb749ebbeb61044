"""Points ledger lines: who, why, how many, which check-in; totals follow the lines.

The person checking in collects their lines in a ``Ledger`` written once at the end of
the check-in (``rewards.pipeline.write``: one statement with their total); everyone
else a check-in pays (a met contact, a new mayor) is credited at once with ``credit``.
Totals are always incremented in SQL, never written back from a copy read earlier.
"""

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from sqlalchemy import BigInteger, DateTime, Integer, String, bindparam, insert, update
from sqlalchemy.orm import Session

from service.models import Checkin, PointsEntry, User


@lru_cache(maxsize=1)
def _credit_statement():
    """A ledger line, the user's total and (when it names one) the check-in's, in one
    statement; built once. (Parameters are named ``p_*``: one named like a column would
    become one more SET.)"""
    user_id = bindparam("p_user", type_=BigInteger)
    checkin_id = bindparam("p_checkin", type_=BigInteger)
    points = bindparam("p_points", type_=Integer)
    line = (
        insert(PointsEntry.__table__)
        .values(
            user_id=user_id,
            checkin_id=checkin_id,
            reason=bindparam("p_reason", type_=String),
            points=points,
            created_at=bindparam("p_now", type_=DateTime(timezone=True)),
        )
        .cte("line")
    )
    checkin = (
        update(Checkin.__table__)
        .where(Checkin.user_id == user_id, Checkin.id == checkin_id)
        .values(points=Checkin.points + points)
        .cte("checkin")
    )
    users = User.__table__
    return (
        update(users)
        .where(users.c.id == user_id)
        .values(points=users.c.points + points)
        .add_cte(line)
        .add_cte(checkin)
    )


def credit(
    db_session: Session,
    user_id: int,
    points: int,
    reason: str,
    now: datetime,
    checkin_id: int | None,
) -> None:
    """A ledger line and the user's total (and the check-in's, when it names one)."""
    db_session.connection().execute(
        _credit_statement(),
        {
            "p_user": user_id,
            "p_checkin": checkin_id,
            "p_points": points,
            "p_reason": reason,
            "p_now": now,
        },
    )


def add_to_checkin(db_session: Session, user_id: int, checkin_id: int, points: int) -> None:
    """Move a check-in's points total."""
    db_session.execute(
        update(Checkin)
        .where(Checkin.user_id == user_id, Checkin.id == checkin_id)
        .values(points=Checkin.points + points)
    )


@dataclass
class Ledger:
    """The lines of the person checking in, for this check-in (or, for a correction, an
    earlier one of theirs)."""

    user_id: int
    checkin_id: int
    now: datetime
    lines: list[tuple[str, int, int]] = field(default_factory=list)

    def add(self, reason: str, points: int, checkin_id: int | None = None) -> None:
        """One more line (on this check-in unless another is named)."""
        self.lines.append((reason, points, checkin_id or self.checkin_id))

    @property
    def earned(self) -> int:
        """What this check-in earned."""
        return sum(points for _, points, checkin in self.lines if checkin == self.checkin_id)

    @property
    def total(self) -> int:
        """Every line's points: what the user's total moves by."""
        return sum(points for _, points, _ in self.lines)
