"""Where and when two check-ins count as the same place and time (PRODUCT.md, Meetings).

Builders of SQL filters over columns passed in; distances in metres on the spheroid.
"""

from datetime import timedelta

from sqlalchemy import ColumnElement, and_, or_

from geo import sql as geosql

MEETING_WINDOW = timedelta(hours=2)
MEETING_DISTANCE_M = 75.0


def same_time(effective_at, at) -> ColumnElement:
    """Effective times at most two hours apart (``at``: a datetime or a bound parameter)."""
    return and_(effective_at >= at - MEETING_WINDOW, effective_at <= at + MEETING_WINDOW)


def same_place(
    venue_id_column,
    venue_location_column,
    *,
    venue_id: int,
    venue_location,
    event_column=None,
    event_id: int | None = None,
) -> ColumnElement:
    """The same venue, venues at most 75 m apart (index-backed), or the same event."""
    options = [
        venue_id_column == venue_id,
        geosql.within_m(venue_location_column, venue_location, MEETING_DISTANCE_M),
    ]
    if event_column is not None:
        options.append(event_column == event_id)  # NULL never equals: no event, no match
    return or_(*options)
