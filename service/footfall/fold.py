"""Fold the rollup's logged changes into the footfall summaries (migrations 0016, 0019, 0023).

Check-ins only append their visit rows' changes to ``venue_visit_changes``; the worker
folds them every second, and a stats read folds what is left of its own venue before it
reads, so the figures are exact as of the read while no check-in pays for the summaries
(and a stopped worker never makes one owner's read fold everyone's check-ins)."""

from sqlalchemy import BigInteger, Integer, bindparam, func, select
from sqlalchemy.orm import Session

BATCH = 5000
_FOLD = select(
    func.footfall_fold(bindparam("batch", type_=Integer), bindparam("venue_id", type_=BigInteger))
)


def fold(db_session: Session, *, batch: int = BATCH, venue_id: int | None = None) -> int:
    """Fold up to ``batch`` of the oldest changes (of one venue, or of all) in the
    session's transaction; how many. Folds wait for each other (an advisory lock), and a
    change is deleted as it is folded, so each is folded once."""
    return db_session.scalar(_FOLD, {"batch": batch, "venue_id": venue_id})


def fold_all(
    db_session: Session, *, batch: int = BATCH, venue_id: int | None = None, commit=False
) -> int:
    """Fold every pending change (of one venue, or of all), ``batch`` at a time, in the
    session's transaction or, with ``commit``, committing each batch; how many."""
    total = 0
    while True:
        folded = fold(db_session, batch=batch, venue_id=venue_id)
        if commit:
            db_session.commit()
        total += folded
        if folded < batch:
            return total


def catch_up(db_session: Session, *, batch: int = BATCH, venue_id: int | None = None) -> int:
    """``fold_all`` committing each batch (a unit of work of its own, so a replica read
    after it sees the figures); how many."""
    return fold_all(db_session, batch=batch, venue_id=venue_id, commit=True)
