"""A plan as its author and as its safety contact see it (nobody else ever does)."""

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from geo import sql as geosql
from service.common.people import person
from service.identities import faces
from service.models import Plan, User, Venue

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


# who each reader sees in a plan: key -> (the row's id, handle and name columns)
_AUTHOR_SEES = {
    "with": ("with_id", "with_handle", "with_name"),
    "safety_contact": ("safety_id", "safety_handle", "safety_name"),
}
_WATCHER_SEES = {
    "user": ("user_id", "author_handle", "author_name"),
    "with": ("with_id", "with_handle", "with_name"),
}


def _shown(db_session: Session, found: list, viewer_id: int, sees: dict) -> list[dict]:
    """The plans with the people ``sees`` names, each with their face as the viewer may
    see it (one statement for the page)."""
    shown, people = [], []
    for row in found:
        item = _state(row.Plan)
        item["venue"] = _venue(row)
        for key, (id_column, handle, name) in sees.items():
            item[key] = person(getattr(row, handle), getattr(row, name))
            people.append((getattr(row.Plan, id_column), item[key]))
        shown.append(item)
    faces.show(db_session, viewer_id=viewer_id, people=people)
    return shown


def for_author(db_session: Session, found: list) -> list[dict]:
    """My plans: whom I meet, where, when, who watches and how it went."""
    viewer = found[0].Plan.user_id if found else 0
    return _shown(db_session, found, viewer, _AUTHOR_SEES)


def for_watcher(db_session: Session, found: list, viewer_id: int) -> list[dict]:
    """Plans I was asked to watch: whose, whom they meet, where, when, how it went."""
    return _shown(db_session, found, viewer_id, _WATCHER_SEES)


def _one(author_id: int, plan_id: int):
    return (Plan.user_id == author_id) & (Plan.id == plan_id)


def author_view(db_session: Session, author_id: int, plan_id: int) -> dict:
    """One plan as its author sees it."""
    (shown,) = for_author(db_session, rows(db_session, _one(author_id, plan_id)))
    return shown


def watcher_view(db_session: Session, author_id: int, plan_id: int, viewer_id: int) -> dict:
    """One plan as its safety contact sees it."""
    (shown,) = for_watcher(db_session, rows(db_session, _one(author_id, plan_id)), viewer_id)
    return shown
