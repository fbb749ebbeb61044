"""Rebuild points, badges and mayorships from the check-in history.

After a rule change, or after upgrading a database that has history. Check-ins are
replayed in the order they arrived, each with the clock at its arrival, through the same
code that awards them live (``pipeline.reward``); only the meetings come from the
history instead of detection (found live, kept), when their second check-in comes up,
in the order they were found, and which one is a pair's first is decided again the
same way (``meetings.first``); mayorships that aged out are re-decided at their own
expiry, as the periodic job does, up to now. Running it twice gives the same result.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session
from tqdm import tqdm

from service import clock
from service.meetings import first as first_meeting
from service.meetings.detect import Met
from service.models import (
    Checkin,
    Event,
    Meeting,
    User,
    Venue,
    VenueMayor,
)
from service.notifications import outbox
from service.presence import seen
from service.rewards import expiry, pipeline
from service.rewards.ledger import Ledger
from service.rewards.policy import PointsPolicy
from service.rewards.reset import reset
from service.rewards.setbased import history, replay
from service.users.names import people

BATCH = 1000


def _recorded_meetings(db_session: Session, ledger: Ledger, policy: PointsPolicy) -> list[Met]:
    """The meetings whose later-arriving check-in is the ledger's, in the order they were
    found, each decided first or not again (``meetings.first.claim``)."""
    meetings = db_session.scalars(
        select(Meeting)
        .where(Meeting.user_id == ledger.user_id, Meeting.checkin_id == ledger.checkin_id)
        .order_by(Meeting.id)
    ).all()
    mine = db_session.get(Checkin, (ledger.user_id, ledger.checkin_id))
    # the other sides' check-ins and names by their person's id, never joined on
    # ``other_id`` (on Citus, another person's rows live on their own shard)
    theirs = history.arrived_at(
        db_session, {(meeting.other_id, meeting.other_checkin_id) for meeting in meetings}
    )
    earlier = {key for key, at in theirs.items() if (at, key[1]) < (mine.created_at, mine.id)}
    names = people(db_session, (meeting.other_id for meeting in meetings))
    rows = [
        (meeting, names[meeting.other_id])
        for meeting in meetings
        if (meeting.other_id, meeting.other_checkin_id) in earlier and meeting.other_id in names
    ]
    found = []
    for meeting, other in rows:
        first, moved_from = first_meeting.claim(
            db_session,
            ledger=ledger,
            other_id=meeting.other_id,
            meeting_id=meeting.id,
            met_at=meeting.met_at,
            policy=policy,
        )
        found.append(
            Met(
                meeting_id=meeting.id,
                other_id=meeting.other_id,
                other_checkin_id=meeting.other_checkin_id,
                first=first,
                moved_from=moved_from,
                at_event=meeting.event_id is not None,
                handle=other["handle"],
                display_name=other["display_name"],
            )
        )
    return found


def recompute(
    *, db_session: Session, policy: PointsPolicy, progress: bool = True, set_based: bool = True
) -> dict:
    """Reset every reward and replay the eligible check-ins in arrival order (telling
    nobody: the notifications were sent when the check-ins happened). ``set_based``: read
    the history once and replay it in memory (``setbased.replay``, the same result in
    seconds), else one check-in at a time through the database (``pipeline.reward``)."""
    with outbox.suppressed(db_session):
        if set_based:
            return replay.recompute(db_session=db_session, policy=policy, progress=progress)
        return _replay(db_session, policy, progress)


def _replay(db_session: Session, policy: PointsPolicy, progress: bool) -> dict:
    reset(db_session)
    db_session.flush()
    keys = db_session.execute(
        select(Checkin.user_id, Checkin.id)
        .where(Checkin.eligible)
        .order_by(Checkin.created_at, Checkin.id)
    ).all()
    for start in tqdm(
        range(0, len(keys), BATCH), desc="recompute", unit="batch", disable=not progress
    ):
        for user_id, checkin_id in keys[start : start + BATCH]:
            checkin = db_session.get(Checkin, (user_id, checkin_id), populate_existing=True)
            user = db_session.get(User, user_id, populate_existing=True)
            venue = db_session.get(Venue, checkin.venue_id)
            now = checkin.created_at
            expiry.expire_due(db_session, now, policy.mayorship)
            ledger = Ledger(user_id, checkin.id, now)
            organiser = (
                db_session.scalar(select(Event.organiser_id).where(Event.id == checkin.event_id))
                if checkin.event_id is not None
                else None
            )
            earned = pipeline.reward(
                pipeline.Arrival(db_session, user, checkin, venue, ledger, policy),
                find_meetings=lambda ledger: _recorded_meetings(db_session, ledger, policy),
                organiser_id=organiser,
                mayor=db_session.get(VenueMayor, venue.id),
            )
            pipeline.write(db_session, ledger, earned.counters)
            db_session.flush()
        db_session.commit()
    expiry.expire_due(db_session, clock.now(), policy.mayorship)
    seen.rebuild(db_session)  # not a reward, but kept beside them on the same row
    db_session.flush()
    totals = db_session.execute(select(User.id, User.points)).all()
    return {"checkins": len(keys), "points": sum(points for _, points in totals)}
