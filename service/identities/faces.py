"""The online face: what a contact's verified networks show of them (PRODUCT.md,
"Recognise, remember, meet safely").

Every list that names people (contacts, feed, "here", meetings, attendees, notifications)
asks ``show`` (or ``show_to_each``, for lists with several viewers such as a push batch)
once for the whole page: one statement loads the faces of every person on it who is the
viewer's mutual contact, from their *verified* identities only. A one-way follower, a
stranger or an unverified claim never gets a face, whatever the caller passes in,
because the contact test is in the same statement.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import BigInteger, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from service.models import Identity, Relationship
from service.presence import visibility


@dataclass(frozen=True)
class Face:
    """One verified network of a person: the handle and what that network shows."""

    network: str
    handle: str
    display_name: str | None
    avatar_url: str | None

    def as_dict(self) -> dict:
        """As the API shows it (``identities`` items)."""
        return {
            "network": self.network,
            "handle": self.handle,
            "display_name": self.display_name,
            "avatar_url": self.avatar_url,
        }


@lru_cache(maxsize=1)
def _faces_statement():
    """For each (viewer, person) pair given as two parallel arrays, the person's verified
    identities when the two are mutual contacts, by viewer, person and network; built
    once, with bound parameters."""
    pairs = (
        func.unnest(
            bindparam("viewers", type_=ARRAY(BigInteger)),
            bindparam("people", type_=ARRAY(BigInteger)),
        )
        .table_valued("viewer", "person")
        .render_derived()
    )
    return (
        select(
            pairs.c.viewer,
            Identity.user_id,
            Identity.network,
            Identity.handle,
            Identity.profile_name,
            Identity.avatar_url,
        )
        .select_from(pairs)
        .join(Relationship, visibility.mutual(pairs.c.viewer, pairs.c.person))
        .join(Identity, Identity.user_id == pairs.c.person)
        .where(Identity.verified_at.is_not(None))
        .order_by(pairs.c.viewer, Identity.user_id, Identity.network)
    )


def of_contacts(
    db_session: Session, pairs: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], list[Face]]:
    """The faces each viewer may see, by (viewer id, person id): a person's only when the
    two are contacts; one statement, and none at all when there is nobody to look up."""
    wanted = sorted({(v, p) for v, p in pairs if p is not None and p != v})
    if not wanted:
        return {}
    rows = db_session.execute(
        _faces_statement(),
        {"viewers": [v for v, _ in wanted], "people": [p for _, p in wanted]},
    )
    faces: dict[tuple[int, int], list[Face]] = {}
    for row in rows:
        faces.setdefault((row.viewer, row.user_id), []).append(
            Face(row.network, row.handle, row.profile_name, row.avatar_url)
        )
    return faces


def show_to_each(db_session: Session, seen: Iterable[tuple[int, int, dict]]) -> None:
    """Give each person dict its ``identities`` as its viewer may see them (empty unless
    the two are contacts); ``seen`` holds (viewer id, person id, the dict shown)."""
    seen = list(seen)
    if not seen:
        return
    faces = of_contacts(db_session, ((viewer, person) for viewer, person, _ in seen))
    for viewer, person, shown in seen:
        shown["identities"] = [face.as_dict() for face in faces.get((viewer, person), ())]


def show(db_session: Session, *, viewer_id: int, people: Iterable[tuple[int, dict]]) -> None:
    """``show_to_each`` for one viewer: ``people`` pairs a user id with its dict."""
    show_to_each(db_session, ((viewer_id, person, shown) for person, shown in people))
