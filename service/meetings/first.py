"""Which meeting of a pair is their first (PRODUCT.md: "the first meeting ever of a pair
... is the biggest reward in the app").

The first is the earliest by ``met_at``; a tie keeps the one found first. An offline
replay can find a meeting *earlier* than the pair's first: it becomes the first, and the
first-meeting bonus moves with it — the later meeting's two check-ins each get a
correcting ledger line (``first_meeting_moved``: later bonus - first bonus, turning +50
into +10) and the new one earns the first bonus. ``meetings.first_time`` (both rows of
both meetings), the ledger and ``relationships.first_met_at`` then agree. Live detection
and ``recompute-rewards`` both go through ``claim``, in the order meetings were found.
"""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.models import Meeting
from service.rewards.ledger import Ledger, credit
from service.rewards.policy import PointsPolicy

MOVED = "first_meeting_moved"


def _both(meeting_id: int, user_id: int, other_id: int):
    return Meeting.user_id.in_((user_id, other_id)), Meeting.id == meeting_id


def claim(
    db_session: Session,
    *,
    ledger: Ledger,
    other_id: int,
    meeting_id: int,
    met_at: datetime,
    policy: PointsPolicy,
) -> tuple[bool, int | None]:
    """Decide whether a just-recorded meeting (its rows inserted with ``first_time``
    false) of ``ledger``'s user with ``other_id`` is the pair's first; returns ``(first,
    moved_from)``: the id of the meeting the first moved from, whose bonus is corrected
    here (the person checking in through their ledger, the other at once)."""
    user_id = ledger.user_id
    prior = db_session.execute(
        select(Meeting.id, Meeting.met_at).where(
            Meeting.user_id == user_id,
            Meeting.other_id == other_id,
            Meeting.first_time,
            Meeting.id != meeting_id,
        )
    ).first()
    if prior is not None and met_at >= prior.met_at:
        return False, None
    if prior is not None:
        correction = policy.meeting - policy.first_meeting
        sides = db_session.execute(
            select(Meeting.user_id, Meeting.checkin_id).where(*_both(prior.id, user_id, other_id))
        ).all()
        for side_user, side_checkin in sides:
            if side_user == user_id:
                ledger.add(MOVED, correction, side_checkin)
            else:
                credit(db_session, side_user, correction, MOVED, ledger.now, side_checkin)
        db_session.execute(
            update(Meeting).where(*_both(prior.id, user_id, other_id)).values(first_time=False)
        )
    db_session.execute(
        update(Meeting).where(*_both(meeting_id, user_id, other_id)).values(first_time=True)
    )
    return True, prior.id if prior is not None else None
