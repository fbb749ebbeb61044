"""Venue use cases: create, read, edit, delete, nearby search."""

from functools import lru_cache

from geoalchemy2.shape import to_shape
from sqlalchemy import Float, Integer, bindparam, func, select
from sqlalchemy.orm import Session

from geo import sql as geosql
from geo.cities import city_of
from geo.coords import LatLon
from geo.nearest import distance_dm, nearest_rows, page_reach
from geo.timezones import timezone_at
from service.common.paging import Offset
from service.errors import Forbidden, NotFound
from service.models import User, Venue

# What ``view`` reads of a venue besides its id and position, for statements that select
# columns rather than entities.
VIEW_COLUMNS = (
    Venue.name,
    Venue.category,
    Venue.address,
    Venue.radius_m,
    Venue.timezone,
    Venue.owner_id,
)


def view(row, venue_id: int, lat: float, lon: float) -> dict:
    """The API's venue shape from anything with name, category, address, radius_m,
    timezone and owner_id (an entity or a result row)."""
    return {
        "id": venue_id,
        "name": row.name,
        "category": row.category,
        "address": row.address,
        "location": {"lat": lat, "lon": lon},
        "radius_m": row.radius_m,
        "timezone": row.timezone,
        "owned": row.owner_id is not None,
    }


def to_dict(venue: Venue, position: LatLon | None = None) -> dict:
    """Dump a venue entity to the API's dict shape."""
    if position is None:
        shape = to_shape(venue.location)
        position = LatLon(shape.y, shape.x)
    return view(venue, venue.id, position.lat, position.lon)


def create(
    *,
    db_session: Session,
    user: User,
    name: str,
    category: str,
    location: dict,
    address: str | None,
    radius_m: int,
) -> dict:
    """Create a venue at a validated position, with its time zone."""
    position = LatLon(**location)
    venue = Venue(
        name=name.strip(),
        category=category.strip(),
        address=address,
        location=geosql.point(position),
        radius_m=radius_m,
        timezone=timezone_at(position),
        city=city_of(position),
        created_by=user.id,
    )
    db_session.add(venue)
    db_session.flush()
    return to_dict(venue, position)


def get(
    *, db_session: Session, venue_id: int, for_update: bool = False, key_share: bool = False
) -> Venue:
    """A live venue by id; 404 if unknown or deleted. ``key_share``: hold it as the
    check-in's foreign key will anyway (FOR KEY SHARE), so a move of the venue waits for
    the check-in, or the check-in reads the moved venue."""
    query = select(Venue).where(Venue.id == venue_id, Venue.deleted_at.is_(None))
    if for_update:
        query = query.with_for_update()
    elif key_share:
        query = query.with_for_update(read=True, key_share=True)
    venue = db_session.scalars(query).first()
    if venue is None:
        raise NotFound("No such venue.")
    return venue


def get_managed(*, db_session: Session, user: User, venue_id: int) -> Venue:
    """A live venue its owner or an admin manages (stats, staff); 404 if unknown, 403 for
    anyone else, a pending claimant included."""
    venue = get(db_session=db_session, venue_id=venue_id)
    if not user.is_admin and (venue.owner_id is None or venue.owner_id != user.id):
        raise Forbidden("Only the venue's owner or an admin can see or change this.")
    return venue


def acting_as_admin(user: User, venue: Venue) -> bool:
    """True when only the admin role allows ``user`` this (so it must be audited)."""
    if not user.is_admin:
        return False
    rights = venue.owner_id if venue.owner_id is not None else venue.created_by
    return rights != user.id


@lru_cache(maxsize=8)
def _nearby_statement(with_category: bool, with_q: bool, knn: bool = True):
    """The nearby query with bound parameters, built once per filter combination.

    The GiST index serves the KNN order (``<->``) inside the radius' box and stops after
    ``offset + limit`` rows; how far the farthest of those lies bounds the page (see
    ``geo.nearest``). The venues within that bound and the radius are sorted
    by ``(distance_dm, id)`` and the page is cut from that order, so pages never overlap.
    """
    here = geosql.point_of(bindparam("lat", type_=Float), bindparam("lon", type_=Float))
    radius = bindparam("radius", type_=Float)
    offset = bindparam("offset", type_=Integer)
    limit = bindparam("limit", type_=Integer)
    key = distance_dm(Venue.location, here)
    live = [Venue.deleted_at.is_(None)]
    if with_category:
        live.append(func.lower(Venue.category) == bindparam("category"))
    if with_q:
        live.append(Venue.name.ilike(bindparam("pattern"), escape="\\"))
    reach = (
        select(key.label("key"))
        .where(*live, geosql.in_radius_box(Venue.location, here, radius))
        .order_by(geosql.nearest_first(Venue.location, here, knn))
        .limit(limit + offset)
        .subquery()
    )
    return (
        select(
            Venue.id,
            *VIEW_COLUMNS,
            geosql.latitude(Venue.location).label("lat"),
            geosql.longitude(Venue.location).label("lon"),
            key.label("distance_dm"),
        )
        .where(
            *live,
            geosql.within_m(Venue.location, here, page_reach(reach.c.key, radius)),
            geosql.distance_m(Venue.location, here) <= radius,
        )
        .order_by(key, Venue.id)
        .offset(offset)
        .limit(limit)
    )


def nearby(
    *,
    db_session: Session,
    position: LatLon,
    radius_m: float,
    page: Offset,
    category: str | None = None,
    q: str | None = None,
) -> dict:
    """A page of the live venues within ``radius_m`` metres, nearest first, with
    ``distance_m`` (ties by id: pages of one search never overlap)."""
    params = {
        "lat": position.lat,
        "lon": position.lon,
        "radius": radius_m,
        "limit": page.limit,
        "offset": page.start,
    }
    if category:
        params["category"] = category.lower()
    if q:
        params["pattern"] = f"%{_escape_like(q)}%"
    rows = nearest_rows(
        db_session, lambda knn: _nearby_statement(bool(category), bool(q), knn), params
    )
    return page.answer(
        [{**view(r, r.id, r.lat, r.lon), "distance_m": r.distance_dm / 10} for r in rows]
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
