"""Rebuild points, badges and mayorships from the check-in history.

After a rule change, or after upgrading a database that has history. Check-ins are
replayed in the order they arrived, each with the clock at its arrival, through the same
code that awards them live; meetings (found live, kept) are credited when their second
check-in comes up, in the order they were found, and which one is a pair's first is
decided again the same way (``meetings.first``); mayorships that aged out are re-decided
at their own expiry, as the periodic job does, up to now. Running it twice gives the
same result.
"""

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, aliased
from tqdm import tqdm

from service import clock
from service.meetings import first as first_meeting
from service.models import (
    Checkin,
    Event,
    MayorshipChange,
    Meeting,
    PointsEntry,
    User,
    UserBadge,
    UserCity,
    UserVenue,
    Venue,
    VenueMayor,
    VenueVisitDay,
)
from service.notifications import outbox
from service.rewards import award, badges, expiry

BATCH = 1000


def _reset(db_session: Session) -> None:
    for model in (
        UserBadge,
        UserVenue,
        UserCity,
        VenueVisitDay,
        VenueMayor,
        MayorshipChange,
        PointsEntry,
    ):
        db_session.execute(delete(model))
    db_session.execute(update(User).values(points=0, eligible_checkins=0))
    db_session.execute(update(Checkin).values(points=0))
    db_session.execute(update(Meeting).values(first_time=False))


def _meetings_completed_by(db_session: Session, checkin: Checkin) -> list[dict]:
    """Meetings whose later-arriving check-in is this one, as ``detect`` reported them."""
    other = aliased(Checkin)
    rows = db_session.execute(
        select(Meeting, User.handle, User.display_name)
        .join(other, (other.user_id == Meeting.other_id) & (other.id == Meeting.other_checkin_id))
        .join(User, User.id == Meeting.other_id)
        .where(
            Meeting.user_id == checkin.user_id,
            Meeting.checkin_id == checkin.id,
            (other.created_at < checkin.created_at)
            | ((other.created_at == checkin.created_at) & (other.id < checkin.id)),
        )
        .order_by(Meeting.id)
    ).all()
    return [
        {
            "meeting": row.Meeting,
            "user_id": row.Meeting.other_id,
            "user": {"handle": row.handle, "display_name": row.display_name},
        }
        for row in rows
    ]


def _credit_meetings(db_session: Session, user: User, checkin: Checkin, cfg) -> list[dict]:
    found = []
    for item in _meetings_completed_by(db_session, checkin):
        meeting = item["meeting"]
        first, _moved_from = first_meeting.claim(
            db_session,
            user_id=user.id,
            other_id=meeting.other_id,
            meeting_id=meeting.id,
            met_at=meeting.met_at,
            now=checkin.created_at,
            cfg=cfg,
        )
        points = cfg["POINTS_FIRST_MEETING"] if first else cfg["POINTS_MEETING"]
        reason = "first_meeting" if first else "meeting"
        db_session.add(
            PointsEntry(
                user_id=user.id,
                checkin_id=checkin.id,
                reason=reason,
                points=points,
                created_at=checkin.created_at,
            )
        )
        checkin.points += points
        user.points += points
        award.credit(
            db_session,
            meeting.other_id,
            points,
            reason,
            checkin.created_at,
            meeting.other_checkin_id,
        )
        db_session.execute(
            update(Checkin)
            .where(Checkin.user_id == meeting.other_id, Checkin.id == meeting.other_checkin_id)
            .values(points=Checkin.points + points)
        )
        found.append(item)
    return found


def recompute(*, db_session: Session, cfg, progress: bool = True) -> dict:
    """Reset every reward and replay the eligible check-ins in arrival order (telling
    nobody: the notifications were sent when the check-ins happened)."""
    with outbox.suppressed(db_session):
        return _replay(db_session, cfg, progress)


def _replay(db_session: Session, cfg, progress: bool) -> dict:
    _reset(db_session)
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
            expiry.expire_due(db_session, now, cfg["POINTS_MAYORSHIP"])
            earned = award.checkin_rewards(
                db_session=db_session, user=user, checkin=checkin, venue=venue, now=now
            )
            meetings = _credit_meetings(db_session, user, checkin, cfg)
            organiser = (
                db_session.scalar(select(Event.organiser_id).where(Event.id == checkin.event_id))
                if checkin.event_id is not None
                else None
            )
            badges.for_checkin(
                db_session,
                user,
                checkin,
                venue,
                now,
                meetings,
                earned["other_mayor"],
                organiser,
                frozenset(earned["changed"]),
            )
            db_session.flush()
        db_session.commit()
    expiry.expire_due(db_session, clock.now(), cfg["POINTS_MAYORSHIP"])
    db_session.flush()
    totals = db_session.execute(select(User.id, User.points)).all()
    return {"checkins": len(keys), "points": sum(points for _, points in totals)}
