"""Nearest-first queries: stable pages, and a fallback from KNN when PostGIS trips over it.

Geography points (SRID 4326), distances in metres on the WGS 84 spheroid. Only
SQLAlchemy: the caller hands in its session and the statements it built.

Pages are cut from one total order, ``(distance in whole decimetres, id)``, the distance
being the spheroid one the API shows. The GiST index's KNN order (``<->``) is on the
sphere, which differs from the spheroid by up to ~0.4 %, so the rows it yields first are
not exactly the nearest ones: cutting pages from it showed near-ties twice or never. The
KNN scan is still what keeps a search fast; it now only finds a *bound*: any
``offset + limit`` rows lie within some distance, so the first ``offset + limit`` rows of
the total order lie within it too, and the page is the slice of that small disc sorted.

PostGIS's geography KNN lower bound is not always below the distance it rechecks (seen
at longitude -180, found by fuzzing), and PostgreSQL then aborts the query with "index
returned tuples in wrong order". The same question is then asked with an exact-distance
sort, still bounded by ST_DWithin's index scan, after rolling back the (read-only)
transaction the error aborted.
"""

from collections.abc import Callable

from sqlalchemy import BigInteger, ColumnElement, cast, func, select
from sqlalchemy.exc import InternalError
from sqlalchemy.orm import Session

from geo import sql as geosql

WRONG_ORDER = "index returned tuples in wrong order"


def distance_dm(column, here) -> ColumnElement:
    """The spheroid distance in whole decimetres: the sort key of nearby pages (the API
    shows it divided by 10, so the order and the figures agree)."""
    return cast(func.round(geosql.distance_m(column, here) * 10), BigInteger)


def page_reach(keys, radius) -> ColumnElement:
    """Metres within which the page lies: the farthest of ``keys`` (``distance_dm`` of the
    rows a KNN scan found first, ``offset + limit`` of them) plus the rounding, at most
    ``radius``. Null when the scan found nothing (the page is then empty)."""
    farthest = select(func.max(keys)).scalar_subquery()
    return func.least(radius, (farthest + 1) / 10.0)


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
