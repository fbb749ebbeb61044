"""Statements planned for their own parameters, every time.

Connections keep PostgreSQL's default plan cache: psycopg prepares a statement run five
times and the server may then reuse a generic plan, which is right for almost every
statement (no planning). The few whose generic plan was measured bad run inside
``custom_plans`` (or are marked ``planned_per_call``): footfall ranges, a check-in's
meeting candidates and nearby fan-out.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps

from sqlalchemy.orm import Session


@contextmanager
def custom_plans(db_session: Session) -> Iterator[None]:
    """Send statements unprepared, so each is planned for its own range and venue.

    Measured generic plans: the rollup's sums of a year took 67 ms instead of 12, the raw
    aggregation of a year timed out (15 s) where its own plan takes 130 ms, and a
    check-in's meeting candidates and nearby fan-out ran 12 and 13 ms against 1.3 and
    2.1 ms planned for their own user."""
    driver = db_session.connection().connection.driver_connection
    kept = driver.prepare_threshold
    driver.prepare_threshold = None
    try:
        yield
    finally:
        driver.prepare_threshold = kept


def planned_per_call(query: Callable) -> Callable:
    """Run ``query`` (its first argument the session) inside ``custom_plans``."""

    @wraps(query)
    def planned(db_session: Session, *args, **kwargs):
        with custom_plans(db_session):
            return query(db_session, *args, **kwargs)

    return planned
