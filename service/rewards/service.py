"""Reading rewards: the catalogue, badges held, a venue's mayor, leaderboards."""

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from service import clock
from service.common.paging import Offset
from service.common.people import person
from service.contacts.pairs import mutual_contact_ids
from service.models import PointsEntry, User, UserBadge, Venue, VenueMayor
from service.presence import visibility
from service.rewards import expiry
from service.rewards.catalogue import BY_KEY, CATALOGUE
from service.rewards.rules import RULES

WEEK = timedelta(days=7)
MAX_RANK = 10_000  # the leaderboard is not paged deeper


def catalogue() -> list[dict]:
    """Every badge with its rule in words and as data."""
    return [
        {
            "key": b.key,
            "name": b.name,
            "description": b.description,
            "kind": b.kind,
            "params": b.params,
            "levels": list(b.levels),
            "earnable": b.kind in RULES,
        }
        for b in CATALOGUE
    ]


def badges_of(
    *, db_session: Session, user_id: int, own: bool = False, as_of: datetime | None = None
) -> list[dict]:
    """A user's badges, newest first. Only their owner sees which check-in unlocked each
    and when to the second; anyone else gets the day (a Night Owl's hour would say when
    they were out). ``as_of``: only those awarded before it."""
    query = (
        select(UserBadge)
        .where(UserBadge.user_id == user_id)
        .order_by(UserBadge.awarded_at.desc(), UserBadge.badge, UserBadge.level)
    )
    if as_of is not None:
        query = query.where(UserBadge.awarded_at < as_of)
    rows = db_session.scalars(query)
    items = []
    for held in rows:
        badge = BY_KEY.get(held.badge)
        if badge is not None:
            items.append(
                {
                    "key": badge.key,
                    "name": badge.name,
                    "description": badge.description,
                    "level": held.level,
                    "awarded_at": held.awarded_at
                    if own
                    else held.awarded_at.replace(hour=0, minute=0, second=0, microsecond=0),
                    "checkin_id": held.checkin_id if own else None,
                }
            )
    return items


def _day(at):
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def mayor_of(
    *, db_session: Session, viewer_id: int, venue_id: int, now: datetime | None = None
) -> dict:
    """The venue's mayor as of now (a mayorship that aged out is re-decided on the fly,
    without writing: the periodic job records it); who it is only for the mayor and
    contacts who see venues."""
    row = db_session.execute(
        select(VenueMayor, Venue.timezone)
        .join(Venue, Venue.id == VenueMayor.venue_id)
        .where(VenueMayor.venue_id == venue_id)
    ).first()
    mayor_id = None
    if row is not None:
        mayor_id, days, since = expiry.as_of(db_session, row[0], row[1], now or clock.now())
    if mayor_id is None:
        return {
            "venue_id": venue_id,
            "has_mayor": False,
            "mayor": None,
            "days": None,
            "since": None,
        }
    mayor = db_session.get(User, mayor_id)
    own = mayor.id == viewer_id
    # naming the mayor names a place they go: only to contacts who see their venues
    visible = own or (
        mayor.location_sharing == "exact" and visibility.is_contact(db_session, viewer_id, mayor.id)
    )
    return {
        "venue_id": venue_id,
        "has_mayor": True,
        "mayor": person(mayor.handle, mayor.display_name) if visible else None,
        "days": days if visible else None,
        # the day, not the second (the instant would date the check-in that won it)
        "since": (since if own else _day(since)) if visible else None,
    }


def leaderboard(
    *,
    db_session: Session,
    viewer_id: int,
    scope: str,
    period: str,
    now: datetime,
    page: Offset,
) -> dict:
    """A page of the users ranked by points (all time, or the rolling last 7 days), at
    most ``MAX_RANK`` deep."""
    members = None
    if scope == "contacts":
        members = [viewer_id, *mutual_contact_ids(db_session, viewer_id)]
    if period == "all":
        points = User.points
        query = select(User.handle, User.display_name, points.label("points"))
        if members is not None:
            query = query.where(User.id.in_(members))
        query = query.where(
            or_(points > 0, User.id == viewer_id) if members is not None else points > 0
        ).order_by(points.desc(), User.id)
    else:
        weekly = (
            select(PointsEntry.user_id, func.sum(PointsEntry.points).label("points"))
            .where(PointsEntry.created_at > now - WEEK, PointsEntry.created_at <= now)
            .group_by(PointsEntry.user_id)
        )
        if members is not None:
            weekly = weekly.where(PointsEntry.user_id.in_(members))
        sub = weekly.subquery()
        query = (
            select(User.handle, User.display_name, sub.c.points)
            .join(sub, sub.c.user_id == User.id)
            .order_by(sub.c.points.desc(), User.id)
        )
    rows = db_session.execute(query.limit(page.limit).offset(page.start)).all()
    items = [
        {
            "rank": page.start + index + 1,
            "user": person(r.handle, r.display_name),
            "points": int(r.points),
        }
        for index, r in enumerate(rows)
    ]
    more = len(items) == page.limit and page.end < MAX_RANK
    return {"scope": scope, "period": period, **page.answer(items, more)}
