"""Events near a position overlapping a time window, nearest first, in stable pages."""

from datetime import datetime
from functools import lru_cache

from sqlalchemy import BigInteger, DateTime, Float, Integer, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from geo import sql as geosql
from geo.coords import LatLon
from geo.events import overlaps
from geo.nearest import distance_dm, nearest_rows, page_reach
from service.common.paging import Offset
from service.models import Event, Rsvp, User, Venue
from service.presence import visibility
from service.users import names
from service.venues import service as venues


@lru_cache(maxsize=2)
def _nearby_statement(knn: bool):
    """The nearest events picked by id first, and only those few joined to their venue
    (events and venues only: on Citus, reference tables read on the coordinator's own
    copy; the organisers' names are read afterwards, by id). Built once per ``knn`` with
    bound parameters (lat, lon, r, start, end, limit, offset): building it cost ~1 ms a
    call.

    The KNN scan of the (location, period) GiST index (exact distance when ``knn`` is
    False), bounded by the radius' box (``geosql.in_radius_box``: bounded by ST_DWithin,
    whose rows PostGIS underestimates, it became a bitmap scan sorting every event in the
    radius, 40 ms against 1 ms on 20 k events) and the window, finds ``offset + limit``
    events; how far the farthest lies bounds the page (``geo.nearest``), which
    is cut from the events within that bound and the radius, sorted by ``(distance_dm,
    id)``. Events at deleted venues are left out."""
    here = geosql.point_of(bindparam("lat", type_=Float), bindparam("lon", type_=Float))
    window = DateTime(timezone=True)
    radius = bindparam("r", type_=Float)
    offset = bindparam("offset", type_=Integer)
    key = distance_dm(Event.location, here)
    live = (
        overlaps(Event.period, bindparam("start", type_=window), bindparam("end", type_=window)),
        # a probe of the venue's primary key per event the KNN scan yields: as a join,
        # PostgreSQL planned a scan of every venue against its (underestimated) events
        select(Venue.deleted_at).where(Venue.id == Event.venue_id).scalar_subquery().is_(None),
    )
    reach = (
        select(key.label("key"))
        .where(geosql.in_radius_box(Event.location, here, radius), *live)
        .order_by(geosql.nearest_first(Event.location, here, knn))
        .limit(bindparam("limit", type_=Integer) + offset)
        .subquery()
    )
    nearest = (
        select(Event.id, key.label("distance_dm"))
        .where(geosql.within_m(Event.location, here, page_reach(reach.c.key, radius)), *live)
        .order_by(key, Event.id)
        .offset(offset)
        .limit(bindparam("limit", type_=Integer))
        .subquery()
    )
    return (
        select(
            Event.id,
            Event.title,
            Event.description,
            Event.tags,
            Event.starts_at,
            Event.ends_at,
            geosql.latitude(Event.location).label("lat"),
            geosql.longitude(Event.location).label("lon"),
            Venue.id.label("venue_id"),
            *venues.VIEW_COLUMNS,
            Event.organiser_id,
            nearest.c.distance_dm,
        )
        .join(nearest, nearest.c.id == Event.id)
        .join(Venue, Venue.id == Event.venue_id)
        .order_by(nearest.c.distance_dm, Event.id)
    )


@lru_cache(maxsize=1)
def _going_statement():
    """How many of the given contacts (sharing on) are going to each of the given
    events; built once. Their answers are read by ``user_id`` (on Citus, on their
    shards), joined to their own ``users`` row only."""
    return (
        select(Rsvp.event_id, func.count().label("going"))
        .join(User, User.id == Rsvp.user_id)
        .where(
            visibility.among(Rsvp.user_id, bindparam("contacts", type_=ARRAY(BigInteger))),
            Rsvp.event_id == any_(bindparam("events", type_=ARRAY(BigInteger))),
            Rsvp.status == "going",
            visibility.sharing(User),
        )
        .group_by(Rsvp.event_id)
    )


def _contacts_going(db_session: Session, viewer_id: int, events: list[int]) -> dict[int, int]:
    """How many of my contacts are going to each of ``events`` (absent: none); my
    contacts read first, no statement when there is nothing to count."""
    if not events:
        return {}
    contacts = visibility.contact_ids(db_session, viewer_id)
    if not contacts:
        return {}
    rows = db_session.connection().execute(
        _going_statement(), {"contacts": contacts, "events": sorted(set(events))}
    )
    return {row.event_id: row.going for row in rows}


def nearby(
    *,
    db_session: Session,
    viewer_id: int,
    position: LatLon,
    radius_m: float,
    window: tuple[datetime, datetime],
    page: Offset,
) -> dict:
    """A page of the events overlapping ``window`` ([start, end)) within the radius,
    nearest first (ties by id: pages of one search never overlap), each with how many
    of my contacts are going."""
    params = {
        "lat": position.lat,
        "lon": position.lon,
        "r": radius_m,
        "start": window[0],
        "end": window[1],
        "limit": page.limit,
        "offset": page.start,
    }
    rows = nearest_rows(db_session, _nearby_statement, params)
    organisers = names.people(db_session, (r.organiser_id for r in rows))
    rows = [r for r in rows if r.organiser_id in organisers]
    going = _contacts_going(db_session, viewer_id, [r.id for r in rows])
    items = [
        {
            "id": r.id,
            "title": r.title,
            "description": r.description,
            "tags": r.tags,
            "starts_at": r.starts_at,
            "ends_at": r.ends_at,
            "location": {"lat": r.lat, "lon": r.lon},
            "venue": venues.view(r, r.venue_id, r.lat, r.lon),
            "organiser": dict(organisers[r.organiser_id]),
            "distance_m": r.distance_dm / 10,
            "contacts_going": going.get(r.id, 0),
        }
        for r in rows
    ]
    return page.answer(items)
