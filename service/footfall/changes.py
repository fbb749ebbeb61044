"""The rollup's change log (``venue_visit_changes``), written by the rollup's writers.

Every statement that changes ``venue_visits`` appends, in the same transaction, each row
it added (+1) and each it removed or replaced (-1, ``gone`` when deleted): exactly what
the statement triggers of migration 0016 appended until migration 0023 dropped them (on
Citus a trigger on a shard cannot write another distributed table). ``fold.py`` turns
the log into the summaries. Each statement here is keyed by ``venue_id`` where the
change is one venue's, so Citus routes it to that venue's shard.
"""

from collections.abc import Mapping, Sequence

from sqlalchemy import delete, false, insert, literal_column, select, true
from sqlalchemy.orm import Session

from service.models import VenueVisit, VenueVisitChange

VISITS = VenueVisit.__table__
CHANGES = VenueVisitChange.__table__
COLUMNS = list(VISITS.c.keys())


def added(row: Mapping) -> dict:
    """The change of a visit row added."""
    return {"sign": 1, "gone": False, **{name: row[name] for name in COLUMNS}}


def removed(row: Mapping, *, gone: bool = False) -> dict:
    """The change of a visit row removed (``gone``: deleted, not replaced)."""
    return {"sign": -1, "gone": gone, **{name: row[name] for name in COLUMNS}}


def append(db_session: Session, changes: Sequence[dict]) -> None:
    """Append changes (one ``INSERT ... VALUES``), replaced rows before their new values."""
    if changes:
        db_session.execute(insert(CHANGES).values(list(changes)))


def _logged(rows, *, sign: int, gone: bool):
    """``INSERT INTO venue_visit_changes SELECT`` the visit rows of ``rows`` (a CTE or a
    subquery with the visit columns), signed."""
    constants = [literal_column(str(int(sign))), true() if gone else false()]  # not $n:
    # Citus may send the SELECT on to the workers without the parameters' types
    return insert(CHANGES).from_select(
        ["sign", "gone", *COLUMNS], select(*constants, *[rows.c[name] for name in COLUMNS])
    )


def log_present(db_session: Session) -> None:
    """Log every visit row there is as added: only right after the rollup was emptied
    and refilled under the ``TRUNCATE``'s lock, so no other writer can have logged one."""
    db_session.execute(_logged(VISITS, sign=1, gone=False))


def delete_logged(db_session: Session, *where) -> None:
    """Delete the visit rows matching ``where``, logging each as gone, in one statement."""
    gone = delete(VISITS).where(*where).returning(*VISITS.c).cte("gone")
    db_session.execute(_logged(gone, sign=-1, gone=True))


def insert_logged(db_session: Session, rows) -> None:
    """Insert the visit rows a select gives (the visit columns, in order), logging each."""
    new = insert(VISITS).from_select(COLUMNS, rows).returning(*VISITS.c).cte("new")
    db_session.execute(_logged(new, sign=1, gone=False))
