"""Reading the people I met in person and their verified identities.

A person is listed from the meetings recorded with them (``meetings``, my side's rows);
their verified identities are shown and exported only while we are mutual contacts
(PRODUCT.md, "The online face": only verified identities, only to contacts; the JSON's
come from ``identities.faces``), so someone who drops me after a meeting stops handing
me their handles, including ones verified later.

My side (my meetings and whether each person is my contact) is read first, in one
statement; the people's own rows (their identities, their names) afterwards, by id: on
Citus they live on the people's shards, never with mine.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, and_, any_, bindparam, false, func, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from service.identities import faces
from service.models import Identity, Meeting, Relationship
from service.users import names

# Mastodon refuses a bigger import (app/models/form/import.rb, ROWS_PROCESSING_LIMIT).
EXPORT_MAX = 20_000


@dataclass(frozen=True)
class Filters:
    """Who to list: contacts with a verified identity on ``network``; people whose
    meetings or (contacts') verified identities (on ``network``) changed ``since``."""

    network: str | None
    since: datetime | None

    @property
    def by_identity(self) -> bool:
        """Whether the people's identities decide who is listed."""
        return self.network is not None or self.since is not None

    def keep(self, row, verified: dict[str, datetime]) -> bool:
        """Whether to list ``row`` (``_met``'s), given when each of the person's identities
        (on ``network``) was verified: read for contacts only, empty for anyone else."""
        if self.network is not None and self.network not in verified:
            return False
        if self.since is None:
            return True
        return row.recorded_at >= self.since or any(at >= self.since for at in verified.values())


def _met(user_id: int, after: tuple[datetime, int] | None):
    """Per person I met, newest meeting first: first and last meeting, how many, when one
    was last recorded (``created_at``: an offline replay records a meeting that happened
    earlier), and whether we are mutual contacts; my rows only."""
    met = (
        select(
            Meeting.user_id,
            Meeting.other_id.label("person_id"),
            func.min(Meeting.met_at).label("first_met_at"),
            func.max(Meeting.met_at).label("last_met_at"),
            func.count().label("meetings"),
            func.max(Meeting.created_at).label("recorded_at"),
        )
        .where(Meeting.user_id == user_id)
        .group_by(Meeting.user_id, Meeting.other_id)
        .subquery("met")
    )
    # joined on user_id too: both sides are my rows (on Citus, one shard)
    query = select(met, func.coalesce(Relationship.mutual, false()).label("contact")).outerjoin(
        Relationship,
        and_(Relationship.user_id == met.c.user_id, Relationship.other_id == met.c.person_id),
    )
    if after is not None:
        query = query.where(tuple_(met.c.last_met_at, met.c.person_id) < tuple_(*after))
    return query.order_by(met.c.last_met_at.desc(), met.c.person_id.desc())


def _verified(db_session: Session, people: list[int], network: str | None) -> dict:
    """The verified identities of ``people`` (on ``network``), by person: network to
    when verified, and to the handle."""
    if not people:
        return {}
    query = select(Identity.user_id, Identity.network, Identity.handle, Identity.verified_at).where(
        Identity.user_id == any_(bindparam("people", people, type_=ARRAY(BigInteger))),
        Identity.verified_at.is_not(None),
    )
    if network is not None:
        query = query.where(Identity.network == network)
    found: dict[int, dict[str, tuple[datetime, str]]] = {}
    for row in db_session.execute(query):
        found.setdefault(row.user_id, {})[row.network] = (row.verified_at, row.handle)
    return found


def _people(
    db_session: Session, user_id: int, filters: Filters, after=None, limit: int | None = None
) -> tuple[list, dict]:
    """The people I met, newest meeting first, as ``_met`` rows passing ``filters`` (at
    most ``limit``), and the verified identities read to decide (contacts' only)."""
    query = _met(user_id, after)
    if not filters.by_identity:
        rows = db_session.execute(query if limit is None else query.limit(limit)).all()
        return rows, {}
    rows = db_session.execute(query).all()
    verified = _verified(
        db_session, [row.person_id for row in rows if row.contact], filters.network
    )
    kept = []
    for row in rows:
        theirs = verified.get(row.person_id, {}) if row.contact else {}
        if filters.keep(row, {net: at for net, (at, _) in theirs.items()}):
            kept.append(row)
            if limit is not None and len(kept) == limit:
                break
    return kept, verified


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
    rows = _people(db_session, user_id, Filters(network, since), after, limit + 1)[0]
    who = names.people(db_session, (r.person_id for r in rows[:limit]))
    page = [r for r in rows[:limit] if r.person_id in who]
    items = [
        {
            **who[r.person_id],
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
    last = rows[limit - 1] if len(rows) > limit else None
    return items, ((last.last_met_at, last.person_id) if last else None)


def export_handles(
    *, db_session: Session, user_id: int, network: str, since: datetime | None
) -> list[str]:
    """The verified ``network`` handles of the contacts I met (newest meeting first, at
    most ``EXPORT_MAX``)."""
    rows, verified = _people(db_session, user_id, Filters(network, since), limit=EXPORT_MAX)
    return [verified[row.person_id][network][1] for row in rows]
