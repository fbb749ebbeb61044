"""Meetings a venue hosted (its "social footfall"), bucketed like the check-ins."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.footfall.figures import Figures
from service.footfall.grid import Range, week_start
from service.footfall.rollup import local_hour
from service.models import Meeting, VenueStaff


def add_meetings(db_session: Session, venue_id: int, span: Range, figures: Figures) -> None:
    """Count each meeting held here in the range once (it has a row per person), in the
    total and in its bucket; meetings of the venue's staff are left out."""
    staff = select(VenueStaff.user_id).where(VenueStaff.venue_id == venue_id)
    held = db_session.execute(
        select(Meeting.id, Meeting.met_at)
        .where(
            Meeting.meeting_venue_id == venue_id,
            Meeting.met_at >= span.start,
            Meeting.met_at < span.end,
            Meeting.user_id.not_in(staff),
            Meeting.other_id.not_in(staff),
        )
        .distinct()
    ).all()
    for _meeting_id, met_at in held:
        figures.total.meetings += 1
        start, day, _weekday, _hour = local_hour(met_at, span.zone)
        key = {"hour": start, "day": day, "week": week_start(day)}[span.granularity]
        if key in figures.buckets:
            figures.buckets[key].meetings += 1
