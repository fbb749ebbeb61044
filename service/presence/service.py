"""What my contacts may see of me and I of them: feed, here, nearby, one check-in.

Every query is built from ``visibility`` (mutual contacts, sharing not ``off``, not
private), so a stranger's check-in can never be selected.
"""

from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import BigInteger, DateTime, Float, bindparam, case, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on
from sqlalchemy.orm import Session

from geo import sql as geosql
from geo.coords import LatLon
from service.common.people import person
from service.identities import faces
from service.models import Checkin, User, Venue
from service.presence import shaping, visibility
from service.venues.service import VIEW_COLUMNS
from service.venues.service import to_dict as venue_dict
from service.venues.service import view as venue_view

RECENT = timedelta(hours=3)
FEED_WINDOW = timedelta(days=7)
# An approximate position is a cell centre up to ~1.5 km from the venue.
SNAP_MARGIN_M = 3000.0


def _visible(contacts: list[int]):
    """Check-ins of my mutual contacts (``visibility.contact_ids``) that they let
    contacts see, with venue and who."""
    return visibility.visible_checkins(
        contacts,
        Checkin.id,
        Checkin.user_id,
        Checkin.shout,
        Checkin.effective_at,
        User.handle,
        User.display_name,
        User.location_sharing,
        Venue,
        geosql.latitude(Venue.location).label("vlat"),
        geosql.longitude(Venue.location).label("vlon"),
    ).join(Venue, Venue.id == Checkin.venue_id)


def _view(row) -> dict:
    position = LatLon(row.vlat, row.vlon)
    return shaping.checkin_view(
        checkin_id=row.id,
        handle=row.handle,
        display_name=row.display_name,
        user_id=row.user_id,
        sharing=row.location_sharing,
        venue=venue_dict(row.Venue, position),
        venue_position=position,
        shout=row.shout,
        effective_at=row.effective_at,
    )


def contact_checkin(*, db_session: Session, viewer_id: int, checkin_id: int) -> dict | None:
    """A contact's check-in as I may see it, or None (not a contact, private, off)."""
    contacts = visibility.contact_ids(db_session, viewer_id)
    if not contacts:
        return None
    row = db_session.execute(_visible(contacts).where(Checkin.id == checkin_id)).first()
    if row is None:
        return None
    shown = _view(row)
    faces.show(db_session, viewer_id=viewer_id, people=[(row.user_id, shown["user"])])
    return shown


def feed(
    *,
    db_session: Session,
    viewer_id: int,
    now: datetime,
    limit: int,
    after: tuple[datetime, int] | None,
) -> tuple[list[dict], tuple | None]:
    """My contacts' visible check-ins of the last 7 days, newest first."""
    contacts = visibility.contact_ids(db_session, viewer_id)
    if not contacts:
        return [], None
    query = (
        _visible(contacts)
        .where(Checkin.effective_at >= now - FEED_WINDOW)
        .order_by(Checkin.effective_at.desc(), Checkin.id.desc())
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(tuple_(Checkin.effective_at, Checkin.id) < tuple_(*after))
    rows = db_session.execute(query).all()
    items = [_view(row) for row in rows[:limit]]
    faces.show(
        db_session,
        viewer_id=viewer_id,
        people=[(row.user_id, item["user"]) for row, item in zip(rows, items, strict=False)],
    )
    last = rows[limit - 1] if len(rows) > limit else None
    return items, ((last.effective_at, last.id) if last else None)


def here(*, db_session: Session, viewer_id: int, venue_id: int, now: datetime) -> list[dict]:
    """Contacts who checked in at this venue in the last 3 hours and share their venue."""
    contacts = visibility.contact_ids(db_session, viewer_id)
    if not contacts:
        return []
    rows = db_session.execute(
        _visible(contacts)
        .where(
            Checkin.venue_id == venue_id,
            User.location_sharing == "exact",
            Checkin.effective_at >= now - RECENT,
        )
        .order_by(Checkin.user_id, Checkin.effective_at.desc())
        .ext(distinct_on(Checkin.user_id))
    ).all()
    people = [
        {
            "user": person(r.handle, r.display_name),
            "checked_in_at": r.effective_at,
            "checkin_id": r.id,
        }
        for r in rows
    ]
    faces.show(
        db_session,
        viewer_id=viewer_id,
        people=[(r.user_id, p["user"]) for r, p in zip(rows, people, strict=True)],
    )
    return sorted(people, key=lambda p: p["checked_in_at"], reverse=True)


@lru_cache(maxsize=1)
def _nearby_contacts_statement():
    """Mutual contacts last seen (``presence.seen``) recently near a position, with that
    check-in and its venue, built once (bound parameters: contacts, lat, lon, radius,
    since): the contacts' rows answer where, so only those near are looked up further."""
    here = geosql.point_of(bindparam("lat", type_=Float), bindparam("lon", type_=Float))
    return (
        select(
            User.id.label("other_id"),
            User.handle,
            User.display_name,
            User.location_sharing,
            Checkin.id,
            Checkin.effective_at,
            Checkin.shout,
            Checkin.venue_id,
            *VIEW_COLUMNS,
            geosql.latitude(User.seen_location).label("vlat"),
            geosql.longitude(User.seen_location).label("vlon"),
        )
        .select_from(Checkin)
        .join(User, (User.id == Checkin.user_id) & (User.seen_checkin_id == Checkin.id))
        .join(Venue, Venue.id == User.seen_venue_id)
        .where(
            visibility.among(User.id, bindparam("contacts", type_=ARRAY(BigInteger))),
            visibility.sharing(User),
            User.seen_at >= bindparam("since", type_=DateTime(timezone=True)),
            # only an approximate contact's shown cell may be nearer than their venue; 1 m
            # of slack leaves the exact test at the edge to the same geodesic as the answer
            geosql.within_m(
                User.seen_location,
                here,
                bindparam("radius", type_=Float)
                + case((User.location_sharing == "approximate", SNAP_MARGIN_M), else_=1.0),
            ),
        )
    )


def nearby_contacts(
    *, db_session: Session, viewer_id: int, here_at: LatLon, radius_m: float, now: datetime
) -> list[dict]:
    """Contacts whose latest visible check-in is ≤ 3 h old and within the radius.

    Filtering and ordering use what the viewer is allowed to see (the snapped point of an
    approximate contact, rounded distances), so neither leaks a finer position.
    """
    contacts = visibility.contact_ids(db_session, viewer_id)
    if not contacts:
        return []
    params = {
        "contacts": contacts,
        "lat": here_at.lat,
        "lon": here_at.lon,
        "radius": radius_m,
        "since": now - RECENT,
    }
    rows = db_session.connection().execute(_nearby_contacts_statement(), params).all()
    found, people = [], []
    for row in rows:
        position = LatLon(row.vlat, row.vlon)
        shown = shaping.shown_position(row.other_id, row.location_sharing, position)
        distance, rounded = shaping.shown_distance(row.location_sharing, here_at, shown)
        if distance > radius_m:
            continue
        found.append(
            {
                "user": person(row.handle, row.display_name),
                "sharing": row.location_sharing,
                "venue": venue_view(row, row.venue_id, position.lat, position.lon)
                if row.location_sharing == "exact"
                else None,
                "location": shown.as_dict(),
                "distance_m": rounded,
                "last_seen_at": row.effective_at,
                "id": row.handle,
            }
        )
        people.append((row.other_id, found[-1]["user"]))
    faces.show(db_session, viewer_id=viewer_id, people=people)  # one statement, if anyone
    found.sort(key=lambda item: (item["distance_m"], item["user"]["handle"].lower()))
    return found
