"""Meetings a venue hosted (its "social footfall"), bucketed like the check-ins."""

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from service.common.plans import planned_per_call
from service.footfall.figures import Counts, Figures
from service.footfall.grid import Range, week_start
from service.footfall.rollup import local_hour
from service.footfall.staff import excluded_meeting
from service.models import Meeting


@planned_per_call
def add_meetings(db_session: Session, venue_id: int, span: Range, figures: Figures) -> None:
    """Count each meeting held here in the range once (it has a row per person), in the
    total and in its bucket, and note who met (to keep a count of fewer than five people
    hidden; never shown); meetings of accepted staff after they accepted are left out.

    A meeting is held at every venue one of its two people checked in at: two check-ins
    at nearby venues (≤ 75 m) or at the same event in two venues count at both (each
    venue hosted one side of it), not only at ``meeting_venue_id`` (the venue of the
    earlier check-in, which only keeps a pair to one meeting per venue per day)."""
    here = aliased(Meeting)
    held = db_session.execute(
        select(Meeting.id, Meeting.met_at, Meeting.user_id)
        .join(
            here,
            Meeting.user_id.in_((here.user_id, here.other_id)) & (Meeting.id == here.id),
        )
        .where(
            here.venue_id == venue_id,
            here.met_at >= span.start,
            here.met_at < span.end,
            ~excluded_meeting(venue_id, Meeting.user_id, Meeting.met_at),
            ~excluded_meeting(venue_id, Meeting.other_id, Meeting.met_at),
        )
        .distinct()
    ).all()
    seen = set()
    for meeting_id, met_at, person in held:
        start, day, _weekday, _hour = local_hour(met_at, span.zone)
        key = {"hour": start, "day": day, "week": week_start(day)}[span.granularity]
        bucket = figures.buckets.setdefault(key, Counts())
        figures.total.met.add(person)
        bucket.met.add(person)
        if meeting_id not in seen:
            seen.add(meeting_id)
            figures.total.meetings += 1
            bucket.meetings += 1
