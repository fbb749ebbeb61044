"""Fold the rollup's logged changes into the footfall summaries (migration 0016).

Check-ins only append their visit rows' changes to ``venue_visit_changes``; the worker
folds them every second and a stats read folds what is left before it reads, so the
figures are exact as of the read while no check-in pays for the summaries."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

BATCH = 5000


def fold(db_session: Session, *, batch: int = BATCH) -> int:
    """Fold up to ``batch`` of the oldest changes in the session's transaction; how many.
    Folds wait for each other (an advisory lock), so each change is folded once."""
    return db_session.scalar(select(func.footfall_fold(batch)))


def catch_up(db_session: Session, *, batch: int = BATCH) -> int:
    """Fold every pending change, committing each batch (a unit of work of its own, so a
    replica read after it sees the figures); returns how many."""
    total = 0
    while True:
        folded = fold(db_session, batch=batch)
        db_session.commit()
        total += folded
        if folded < batch:
            return total
