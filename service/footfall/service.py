"""The owner's footfall statistics: who may see them, which reader, the report."""

from datetime import date, timedelta

from sqlalchemy.orm import Session

from service import clock
from service.admin import audit
from service.errors import DomainError
from service.footfall import fold, from_raw, from_rollup
from service.footfall.figures import report
from service.footfall.grid import make_range, today_in
from service.footfall.meetings import add_meetings
from service.models import User
from service.venues import service as venues

DEFAULT_DAYS = 30


def stats(
    *,
    db_session: Session,
    reader: Session | None = None,
    user: User,
    venue_id: int,
    first: date | None = None,
    last: date | None = None,
    granularity: str = "day",
    tz: str | None = None,
) -> dict:
    """Footfall of a venue I own (or any, as an admin) between two local dates.

    In the venue's time zone the rollup answers, once the changes the worker has not
    folded yet are; another ``tz`` is computed from the check-ins themselves (the
    rollup's days are the venue's). The figures are read
    through ``reader`` (a replica, when there is one)."""
    reader = reader or db_session
    venue = venues.get_managed(db_session=db_session, user=user, venue_id=venue_id)
    zone = tz or venue.timezone
    last = last or today_in(clock.now(), zone)
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    try:
        span = make_range(first, last, zone, granularity)
    except ValueError as exc:
        raise DomainError(str(exc), errors={"query": {"from": [str(exc)]}}) from exc
    source = from_rollup if zone == venue.timezone else from_raw
    if source is from_rollup:
        fold.catch_up(db_session, venue_id=venue.id)  # what the worker has not yet
    figures = source.figures(reader, venue.id, span)
    add_meetings(reader, venue.id, span, figures)
    if venues.acting_as_admin(user, venue):
        audit.record(
            db_session,
            admin_id=user.id,
            action="venue.stats",
            target_type="venue",
            target_id=venue.id,
            details={"from": span.first.isoformat(), "to": span.last.isoformat()},
        )
    return {
        "venue_id": venue.id,
        "from": span.first,
        "to": span.last,
        "granularity": granularity,
        "tz": zone,
        "source": "rollup" if source is from_rollup else "raw",
        **report(span, figures),
    }
