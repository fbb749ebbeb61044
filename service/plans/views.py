"""A plan as its author and as its safety contact see it (nobody else ever does)."""

from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo import sql as geosql
from service.common.people import person
from service.identities import faces
from service.models import Plan, User, Venue


class PlanRow(NamedTuple):
    """A plan with its venue and the names of the people it names."""

    Plan: Plan
    venue_name: str
    lat: float
    lon: float
    author_handle: str
    author_name: str
    with_handle: str
    with_name: str
    safety_handle: str
    safety_name: str


def _select():
    return select(
        Plan,
        Venue.name.label("venue_name"),
        geosql.latitude(Venue.location).label("lat"),
        geosql.longitude(Venue.location).label("lon"),
    ).join(Venue, Venue.id == Plan.venue_id)


def rows(
    db_session: Session, *conditions, before: int | None = None, limit: int | None = None
) -> list[PlanRow]:
    """Plans with the people and the venue they name, newest first."""
    query = _select().where(*conditions).order_by(Plan.id.desc())
    if before is not None:
        query = query.where(Plan.id < before)
    if limit is not None:
        query = query.limit(limit)
    found = db_session.execute(query).all()
    names = _names(db_session, {i for row in found for i in _people(row.Plan)})
    return [
        PlanRow(
            row.Plan,
            row.venue_name,
            row.lat,
            row.lon,
            *names[row.Plan.user_id],
            *names[row.Plan.with_id],
            *names[row.Plan.safety_id],
        )
        for row in found
        if set(_people(row.Plan)) <= names.keys()
    ]


def _people(plan: Plan) -> tuple[int, int, int]:
    """Who a plan names: its author, the person met, the watcher."""
    return plan.user_id, plan.with_id, plan.safety_id


def _names(db_session: Session, user_ids: set[int]) -> dict[int, tuple[str, str]]:
    """``(handle, display name)`` by user id. Read apart from the plans: on Citus users
    are sharded by id, and the person met and the watcher live elsewhere than the
    author's plans."""
    if not user_ids:
        return {}
    found = select(User.id, User.handle, User.display_name).where(User.id.in_(sorted(user_ids)))
    return {user.id: (user.handle, user.display_name) for user in db_session.execute(found)}


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
