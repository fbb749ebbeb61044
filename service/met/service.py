"""Reading the people I met in person and their verified identities.

A person is listed from the meetings recorded with them (``meetings``, my side's rows);
their verified identities are shown and exported only while we are mutual contacts
(PRODUCT.md, "The online face": only verified identities, only to contacts; the JSON's
come from ``identities.faces``), so someone who drops me after a meeting stops handing
me their handles, including ones verified later.
"""

from datetime import datetime

from sqlalchemy import and_, exists, false, func, or_, select, tuple_
from sqlalchemy.orm import Session

from service.common.people import person
from service.identities import faces
from service.models import Identity, Meeting, Relationship, User

# Mastodon refuses a bigger import (app/models/form/import.rb, ROWS_PROCESSING_LIMIT).
EXPORT_MAX = 20_000


def _met(user_id: int):
    """Per person I met: first and last meeting, how many, and when one was last recorded
    (``created_at``: an offline replay records a meeting that happened earlier)."""
    return (
        select(
            Meeting.other_id.label("person_id"),
            func.min(Meeting.met_at).label("first_met_at"),
            func.max(Meeting.met_at).label("last_met_at"),
            func.count().label("meetings"),
            func.max(Meeting.created_at).label("recorded_at"),
        )
        .where(Meeting.user_id == user_id)
        .group_by(Meeting.other_id)
        .subquery("met")
    )


def _verified(person_id, network: str | None, since: datetime | None = None):
    """EXISTS condition: the person has a verified identity (on ``network``; verified at
    or after ``since``)."""
    query = select(Identity.user_id).where(
        Identity.user_id == person_id, Identity.verified_at.is_not(None)
    )
    if network is not None:
        query = query.where(Identity.network == network)
    if since is not None:
        query = query.where(Identity.verified_at >= since)
    return exists(query)


def _people(user_id: int, *, network: str | None, since: datetime | None):
    """The people I met as rows (their meetings, their user, ``contact``), filtered."""
    met = _met(user_id)
    contact = func.coalesce(Relationship.mutual, false())
    query = (
        select(met, User.handle, User.display_name, contact.label("contact"))
        .join(User, User.id == met.c.person_id)
        .outerjoin(
            Relationship,
            and_(Relationship.user_id == user_id, Relationship.other_id == met.c.person_id),
        )
    )
    if network is not None:
        query = query.where(contact, _verified(met.c.person_id, network))
    if since is not None:
        query = query.where(
            or_(
                met.c.recorded_at >= since,
                and_(contact, _verified(met.c.person_id, network, since)),
            )
        )
    return query, met


def list_met(
    *,
    db_session: Session,
    user_id: int,
    limit: int,
    after: tuple[datetime, int] | None,
    network: str | None,
    since: datetime | None,
) -> tuple[list[dict], tuple[datetime, int] | None]:
    """A page of the people I met (keyset on last meeting, person id), each with the
    verified identities (``faces``) of those who are my contacts."""
    query, met = _people(user_id, network=network, since=since)
    if after is not None:
        query = query.where(tuple_(met.c.last_met_at, met.c.person_id) < tuple_(*after))
    newest_first = (met.c.last_met_at.desc(), met.c.person_id.desc())
    rows = db_session.execute(query.order_by(*newest_first).limit(limit + 1)).all()
    page = rows[:limit]
    items = [
        {
            **person(r.handle, r.display_name),
            "contact": r.contact,
            "first_met_at": r.first_met_at,
            "last_met_at": r.last_met_at,
            "meetings": r.meetings,
        }
        for r in page
    ]
    faces.show(
        db_session,
        viewer_id=user_id,
        people=[(r.person_id, item) for r, item in zip(page, items, strict=True)],
    )
    last = page[-1] if len(rows) > limit else None
    return items, ((last.last_met_at, last.person_id) if last else None)


def export_handles(
    *, db_session: Session, user_id: int, network: str, since: datetime | None
) -> list[str]:
    """The verified ``network`` handles of the contacts I met (newest meeting first, at
    most ``EXPORT_MAX``)."""
    people = _people(user_id, network=network, since=since)[0].subquery("people")
    return list(
        db_session.scalars(
            select(Identity.handle)
            .join(people, people.c.person_id == Identity.user_id)
            .where(Identity.network == network, Identity.verified_at.is_not(None))
            .order_by(people.c.last_met_at.desc(), people.c.person_id.desc())
            .limit(EXPORT_MAX)
        )
    )
