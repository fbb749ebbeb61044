"""A plan as its author and as its safety contact see it (nobody else ever does)."""

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from geo import sql as geosql
from service.identities import faces
from service.models import Plan, User, Venue
from service.presence import shaping

_WITH, _SAFETY, _AUTHOR = aliased(User), aliased(User), aliased(User)


def _select():
    return (
        select(
            Plan,
            _AUTHOR.handle.label("author_handle"),
            _AUTHOR.display_name.label("author_name"),
            _WITH.handle.label("with_handle"),
            _WITH.display_name.label("with_name"),
            _SAFETY.handle.label("safety_handle"),
            _SAFETY.display_name.label("safety_name"),
            Venue.name.label("venue_name"),
            geosql.latitude(Venue.location).label("lat"),
            geosql.longitude(Venue.location).label("lon"),
        )
        .join(_AUTHOR, _AUTHOR.id == Plan.user_id)
        .join(_WITH, _WITH.id == Plan.with_id)
        .join(_SAFETY, _SAFETY.id == Plan.safety_id)
        .join(Venue, Venue.id == Plan.venue_id)
    )


def rows(db_session: Session, *conditions, before: int | None = None, limit: int | None = None):
    """Plans with the people and the venue they name, newest first."""
    query = _select().where(*conditions).order_by(Plan.id.desc())
    if before is not None:
        query = query.where(Plan.id < before)
    if limit is not None:
        query = query.limit(limit)
    return db_session.execute(query).all()


def _state(plan: Plan) -> dict:
    return {
        "id": plan.id,
        "venue": None,
        "at": plan.at,
        "check_by": plan.check_by,
        "watched": plan.accepted_at is not None,
        "accepted_at": plan.accepted_at,
        "arrived_at": plan.arrived_at,
        "ok_at": plan.ok_at,
        "alerts": plan.alerts,
        "open": plan.closed_at is None,
        "outcome": plan.outcome,
        "closed_at": plan.closed_at,
        "created_at": plan.created_at,
    }


def _venue(row) -> dict:
    return {
        "id": row.Plan.venue_id,
        "name": row.venue_name,
        "location": {"lat": row.lat, "lon": row.lon},
    }


def for_author(db_session: Session, found: list) -> list[dict]:
    """My plans: whom I meet, where, when, who watches and how it went."""
    shown = []
    for row in found:
        item = _state(row.Plan)
        item["venue"] = _venue(row)
        item["with"] = shaping.person(row.with_handle, row.with_name)
        item["safety_contact"] = shaping.person(row.safety_handle, row.safety_name)
        shown.append(item)
    if shown:
        people = [(r.Plan.with_id, s["with"]) for r, s in zip(found, shown, strict=True)]
        people += [
            (r.Plan.safety_id, s["safety_contact"]) for r, s in zip(found, shown, strict=True)
        ]
        faces.show(db_session, viewer_id=found[0].Plan.user_id, people=people)
    return shown


def for_watcher(db_session: Session, found: list, viewer_id: int) -> list[dict]:
    """Plans I was asked to watch: whose, whom they meet, where, when, how it went."""
    shown = []
    for row in found:
        item = _state(row.Plan)
        item["venue"] = _venue(row)
        item["user"] = shaping.person(row.author_handle, row.author_name)
        item["with"] = shaping.person(row.with_handle, row.with_name)
        shown.append(item)
    people = [(r.Plan.user_id, s["user"]) for r, s in zip(found, shown, strict=True)]
    people += [(r.Plan.with_id, s["with"]) for r, s in zip(found, shown, strict=True)]
    faces.show(db_session, viewer_id=viewer_id, people=people)
    return shown
