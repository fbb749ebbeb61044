"""The one rule for whose whereabouts a viewer may see (PRODUCT.md, Privacy and Trust).

A check-in is visible to a viewer when the two are mutual contacts, its author does not
share ``off`` (now), and it was shared when made (not private, not made while ``off``).
When a check-in acts on someone else — a meeting, a "nearby" notification — it must also
be eligible (a too-far or probing check-in tells nobody anything). Every reader of
whereabouts (feed, here, nearby contacts, one check-in, nearby notifications, meetings,
the mayor's name, events, profiles) builds its query from these pieces, so the next
feature cannot get the rule wrong: ``tests/integration/test_visibility_table.py`` checks
every such endpoint against it.

"Mutual contacts" is always read first, on its own (``contact_ids``: my relationship rows,
one index range), and the contacts' rows are then selected by ``user_id = ANY(ids)``: a
person's rows live with the person (on Citus, on their shard), never with mine, so they
are never joined to my relationships.
"""

from sqlalchemy import BigInteger, and_, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from service.contacts.pairs import mutual_contact_ids
from service.models import Checkin, Relationship, User

SHARING_OFF = "off"


def mutual(viewer, other=None):
    """``Relationship`` row condition: a mutual contact of ``viewer`` (``other`` if given)."""
    condition = and_(Relationship.user_id == viewer, Relationship.mutual)
    return condition if other is None else and_(condition, Relationship.other_id == other)


def contact_ids(db_session: Session, viewer_id: int) -> list[int]:
    """My mutual contacts' ids, ascending: the only source of ``among``'s ids."""
    return mutual_contact_ids(db_session, viewer_id)


def among(column, contacts) -> ColumnElement:
    """``column`` (a person's id) is one of ``contacts``: ids read by ``contact_ids``, or
    a bound parameter carrying them."""
    if not isinstance(contacts, ColumnElement):
        contacts = bindparam(None, list(contacts), type_=ARRAY(BigInteger))
    return column == any_(contacts)


def sharing(user=User):
    """The person lets contacts see them at all."""
    return user.location_sharing != SHARING_OFF


def shown(checkin=Checkin):
    """The check-in is one its author let contacts see when making it: not private, and
    not made while sharing ``off`` (``shared``; turning sharing back on later does not
    reveal what was made while it was off)."""
    return checkin.shared


def acting(checkin=Checkin):
    """A visible check-in that may also act on others (meet them, notify them)."""
    return and_(shown(checkin), checkin.eligible)


def visible_checkins(contacts, *columns, rule=shown):
    """``select(*columns)`` over the check-ins of ``contacts`` (``among``: my mutual
    contacts, from ``contact_ids``) that I may see (``rule``: ``acting`` for those that
    act on me), joined to their author (``User``, on the same person: co-located);
    callers add what they read and filter further."""
    return (
        select(*columns)
        .select_from(Checkin)
        .join(User, User.id == Checkin.user_id)
        .where(among(Checkin.user_id, contacts), sharing(User), rule(Checkin))
    )


def is_contact(db_session: Session, viewer_id: int, other_id: int) -> bool:
    """True when the two follow each other."""
    return bool(db_session.scalar(select(Relationship.mutual).where(mutual(viewer_id, other_id))))
