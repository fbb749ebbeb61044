"""Reading my meetings."""

from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from geo import sql as geosql
from geo.coords import LatLon
from service.common.people import person
from service.identities import faces
from service.models import Meeting, User, Venue
from service.venues.service import to_dict as venue_dict


def list_mine(
    *, db_session: Session, user_id: int, limit: int, after: tuple[datetime, int] | None
) -> tuple[list[dict], tuple | None]:
    """My meetings, newest first (keyset on met_at, id)."""
    query = (
        select(
            Meeting,
            User.handle,
            User.display_name,
            Venue,
            geosql.latitude(Venue.location).label("vlat"),
            geosql.longitude(Venue.location).label("vlon"),
        )
        .join(User, User.id == Meeting.other_id)
        .join(Venue, Venue.id == Meeting.venue_id)
        .where(Meeting.user_id == user_id)
        .order_by(Meeting.met_at.desc(), Meeting.id.desc())
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(tuple_(Meeting.met_at, Meeting.id) < tuple_(*after))
    rows = db_session.execute(query).all()
    items = [
        {
            "id": r.Meeting.id,
            "user": person(r.handle, r.display_name),
            "venue": venue_dict(r.Venue, LatLon(r.vlat, r.vlon)),
            "met_at": r.Meeting.met_at,
            "local_day": r.Meeting.local_day,
            "first_time": r.Meeting.first_time,
        }
        for r in rows[:limit]
    ]
    faces.show(
        db_session,
        viewer_id=user_id,
        people=[(r.Meeting.other_id, item["user"]) for r, item in zip(rows, items, strict=False)],
    )
    last = rows[limit - 1].Meeting if len(rows) > limit else None
    return items, ((last.met_at, last.id) if last else None)


def with_faces(*, db_session: Session, user_id: int, meetings: list[dict]) -> list[dict]:
    """The meetings a check-in completed (``user`` and ``user_id`` each), their people
    with faces: one statement for all of them, none when there are none."""
    faces.show(db_session, viewer_id=user_id, people=[(m["user_id"], m["user"]) for m in meetings])
    return meetings
