"""Meetings a venue hosted (its "social footfall"), bucketed like the check-ins."""

from sqlalchemy import BigInteger, any_, cast, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from service.common.plans import planned_per_call
from service.footfall.figures import Counts, Figures
from service.footfall.grid import Range, week_start
from service.footfall.rollup import local_hour
from service.footfall.staff import accepted_since, excluded_meeting
from service.models import Meeting


@planned_per_call
def add_meetings(db_session: Session, venue_id: int, span: Range, figures: Figures) -> None:
    """Count each meeting held here in the range once (it has a row per person), in the
    total and in its bucket, and note who met (to keep a count of fewer than five people
    hidden; never shown); meetings of accepted staff after they accepted are left out.

    A meeting is held at every venue one of its two people checked in at: two check-ins
    at nearby venues (≤ 75 m) or at the same event in two venues count at both (each
    venue hosted one side of it), not only at ``meeting_venue_id`` (the venue of the
    earlier check-in, which only keeps a pair to one meeting per venue per day).

    Read in steps (the meetings here, then both people's rows of them, then the staff),
    never joining rows of different people: on Citus they live on different shards."""
    here = db_session.execute(
        select(Meeting.id, Meeting.user_id, Meeting.other_id).where(
            Meeting.venue_id == venue_id, Meeting.met_at >= span.start, Meeting.met_at < span.end
        )
    ).all()
    sides = {(row.id, person) for row in here for person in (row.user_id, row.other_id)}
    staff = accepted_since(db_session, venue_id)
    held = sorted(
        {
            (row.id, row.met_at, row.user_id)
            for row in _rows(db_session, sides)
            if (row.id, row.user_id) in sides
            and not excluded_meeting(staff, row.user_id, row.met_at)
            and not excluded_meeting(staff, row.other_id, row.met_at)
        }
    )
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


def _rows(db_session: Session, sides: set[tuple[int, int]]) -> list:
    """The meeting rows of these (meeting, person) pairs (and maybe a few more)."""
    if not sides:
        return []
    ids, people = ([*{side[i] for side in sides}] for i in (0, 1))
    return db_session.execute(
        select(Meeting.id, Meeting.met_at, Meeting.user_id, Meeting.other_id).where(
            Meeting.user_id == any_(cast(people, ARRAY(BigInteger))),
            Meeting.id == any_(cast(ids, ARRAY(BigInteger))),
        )
    ).all()
