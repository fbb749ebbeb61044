"""Who people are, by id: the names other people's rows point to (meetings, RSVPs).

A row naming someone else (``meetings.other_id``) lives with its owner, the person it
names with themselves (on Citus, different shards): their names are read afterwards, all
at once, by id, never by joining ``users`` on the other person's id.
"""

from collections.abc import Iterable
from functools import lru_cache

from sqlalchemy import BigInteger, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from service.common.people import person
from service.models import User


@lru_cache(maxsize=1)
def _names_statement():
    return select(User.id, User.handle, User.display_name).where(
        User.id == any_(bindparam("ids", type_=ARRAY(BigInteger)))
    )


def people(db_session: Session, ids: Iterable[int]) -> dict[int, dict]:
    """``person`` of each of these users that exists, by id; no statement for nobody."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = db_session.execute(_names_statement(), {"ids": wanted})
    return {row.id: person(row.handle, row.display_name) for row in rows}
