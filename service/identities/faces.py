"""The online face: what a contact's verified networks show of them (PRODUCT.md,
"Recognise, remember, meet safely").

Every list that names people (contacts, feed, "here", meetings, attendees, notifications)
asks ``show`` (or ``show_to_each``, for lists with several viewers such as a push batch)
once for the whole page: one statement finds which people on it are the viewer's mutual
contacts, and one loads those people's *verified* identities only. A one-way follower, a
stranger or an unverified claim never gets a face, whatever the caller passes in,
because only the people the first statement confirms are looked up.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import BigInteger, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from service.models import Identity, Relationship


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
def _contacts_statement():
    """The (viewer, person) relationship rows that are mutual among the given viewers and
    people, read on the viewers' side; built once."""
    return select(Relationship.user_id, Relationship.other_id).where(
        Relationship.user_id == any_(bindparam("viewers", type_=ARRAY(BigInteger))),
        Relationship.other_id == any_(bindparam("people", type_=ARRAY(BigInteger))),
        Relationship.mutual,
    )


@lru_cache(maxsize=1)
def _faces_statement():
    """The verified identities of the given people, by person and network; built once."""
    return (
        select(
            Identity.user_id,
            Identity.network,
            Identity.handle,
            Identity.profile_name,
            Identity.avatar_url,
        )
        .where(
            Identity.user_id == any_(bindparam("people", type_=ARRAY(BigInteger))),
            Identity.verified_at.is_not(None),
        )
        .order_by(Identity.user_id, Identity.network)
    )


def of_contacts(
    db_session: Session, pairs: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], list[Face]]:
    """The faces each viewer may see, by (viewer id, person id): a person's only when the
    two are contacts. Two statements (which pairs are contacts, on the viewers' side; then
    those people's verified identities, on theirs), none when there is nobody to look up,
    one when none of them is a contact."""
    wanted = sorted({(v, p) for v, p in pairs if p is not None and p != v})
    if not wanted:
        return {}
    contacts = {
        (row.user_id, row.other_id)
        for row in db_session.execute(
            _contacts_statement(),
            {"viewers": sorted({v for v, _ in wanted}), "people": sorted({p for _, p in wanted})},
        )
    }.intersection(wanted)
    if not contacts:
        return {}
    found: dict[int, list[Face]] = {}
    for row in db_session.execute(_faces_statement(), {"people": sorted({p for _, p in contacts})}):
        found.setdefault(row.user_id, []).append(
            Face(row.network, row.handle, row.profile_name, row.avatar_url)
        )
    return {pair: found[pair[1]] for pair in sorted(contacts) if pair[1] in found}


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
