"""Keep the venues' GiST index tight: rewrite the table in place order and rebuild it.

PostGIS gives ``geography`` no sort support, so its GiST index is built by inserting rows
one after the other, and its pages are only as well separated as that order: venues
added over time (or a CLUSTER on the GiST itself) leave leaves that overlap. Measured on
10 M clustered venues (``bench/scale.py``), the nearby query then visited 120 index and
heap pages (2.6 ms); rebuilt from rows in geohash order, 21 pages (0.7 ms), no more than
at 100 k venues.
"""

from sqlalchemy import text
from sqlalchemy.orm import Session

SORT_INDEX = "ix_venues_place_order_tmp"
GEOHASH_CHARS = 12  # ~4 cm cells: a total order for venues


CLUSTER_STATEMENTS = (
    f"DROP INDEX IF EXISTS {SORT_INDEX}",
    f"CREATE INDEX {SORT_INDEX} ON venues (ST_GeoHash(location::geometry, {GEOHASH_CHARS}), id)",
    f"CLUSTER venues USING {SORT_INDEX}",
    f"DROP INDEX {SORT_INDEX}",
    "ANALYZE venues",
)


def cluster_by_place(*, db_session: Session) -> None:
    """CLUSTER venues in geohash order (through a temporary btree), which rebuilds every
    index from rows in that order, then ANALYZE. Locks the table for the rewrite (about
    a minute per million venues on a slow core): run it in a quiet hour."""
    # minutes at 10 M venues: past the API's statement timeout; sorting in memory helps
    db_session.execute(text("SET LOCAL statement_timeout = 0"))
    db_session.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
    # Citus: run the rewrite through each node's connection, its own copy included (a
    # CLUSTER propagated to the workers cannot follow a local read of the same table;
    # an unused placeholder on single-node PostgreSQL)
    db_session.execute(text("SET LOCAL citus.enable_local_execution = off"))
    for statement in CLUSTER_STATEMENTS:
        db_session.execute(text(statement))
