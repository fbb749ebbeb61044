"""Run a nearest-first query, falling back from KNN when PostGIS trips over it.

PostGIS's geography KNN lower bound is not always below the distance it rechecks (seen
at longitude -180, found by fuzzing), and PostgreSQL then aborts the query with "index
returned tuples in wrong order". The same question is then asked with an exact-distance
sort, still bounded by ST_DWithin's index scan, after rolling back the (read-only)
transaction the error aborted.
"""

from collections.abc import Callable

from sqlalchemy.exc import InternalError
from sqlalchemy.orm import Session

WRONG_ORDER = "index returned tuples in wrong order"


def nearest_rows(db_session: Session, statement_for: Callable[[bool], object], params=None):
    """Rows of ``statement_for(True)`` (KNN), or of ``statement_for(False)`` if KNN fails.

    The statements are Core selects, run on the session's connection: the ORM's execute
    path adds ~0.1 ms a query (measured) and nothing here needs it."""
    try:
        return db_session.connection().execute(statement_for(True), params or {}).all()
    except InternalError as exc:
        if WRONG_ORDER not in str(exc.orig):
            raise
        db_session.rollback()
        return db_session.connection().execute(statement_for(False), params or {}).all()
