"""Reading my meetings."""

from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from geo import sql as geosql
from geo.coords import LatLon
from service.identities import faces
from service.models import Meeting, Venue
from service.users import names
from service.venues.service import to_dict as venue_dict


def list_mine(
    *, db_session: Session, user_id: int, limit: int, after: tuple[datetime, int] | None
) -> tuple[list[dict], tuple | None]:
    """My meetings, newest first (keyset on met_at, id): a page of my rows, then the names
    of the people they name."""
    query = (
        select(
            Meeting,
            Venue,
            geosql.latitude(Venue.location).label("vlat"),
            geosql.longitude(Venue.location).label("vlon"),
        )
        .join(Venue, Venue.id == Meeting.venue_id)
        .where(Meeting.user_id == user_id)
        .order_by(Meeting.met_at.desc(), Meeting.id.desc())
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(tuple_(Meeting.met_at, Meeting.id) < tuple_(*after))
    rows = db_session.execute(query).all()
    who = names.people(db_session, (r.Meeting.other_id for r in rows[:limit]))
    shown = [r for r in rows[:limit] if r.Meeting.other_id in who]
    items = [
        {
            "id": r.Meeting.id,
            "user": dict(who[r.Meeting.other_id]),
            "venue": venue_dict(r.Venue, LatLon(r.vlat, r.vlon)),
            "met_at": r.Meeting.met_at,
            "local_day": r.Meeting.local_day,
            "first_time": r.Meeting.first_time,
        }
        for r in shown
    ]
    faces.show(
        db_session,
        viewer_id=user_id,
        people=[(r.Meeting.other_id, item["user"]) for r, item in zip(shown, items, strict=True)],
    )
    last = rows[limit - 1].Meeting if len(rows) > limit else None
    return items, ((last.met_at, last.id) if last else None)


def with_faces(*, db_session: Session, user_id: int, meetings: list[dict]) -> list[dict]:
    """The meetings a check-in completed (``user`` and ``user_id`` each), their people
    with faces: one statement for all of them, none when there are none."""
    faces.show(db_session, viewer_id=user_id, people=[(m["user_id"], m["user"]) for m in meetings])
    return meetings
