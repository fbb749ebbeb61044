"""Each set of allowed values (notification kinds, platforms, push states, RSVP statuses,
claim states, plan outcomes, sharing levels) is declared once in Python, and the
migrations' check constraints allow exactly those values: a kind added to the tuple
without its migration, or the other way round, fails here."""

import re

from sqlalchemy import CheckConstraint, text

from service.models import Base
from service.notifications.kinds import KINDS

QUOTED = re.compile(r"'([^']*)'")


def declared() -> dict[str, set[str]]:
    """Constraint name -> the values the models' check constraint lists."""
    found = {}
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint) and " IN (" in str(constraint.sqltext):
                found[constraint.name] = set(QUOTED.findall(str(constraint.sqltext)))
    return found


def test_the_databases_check_constraints_allow_exactly_the_declared_values(engine):
    wanted = declared()
    assert {"ck_notifications_kind", "ck_devices_platform"} <= set(wanted)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE contype = 'c' AND conname = ANY(:names)"
            ),
            {"names": list(wanted)},
        ).all()
    in_database = {name: set(QUOTED.findall(definition)) for name, definition in rows}
    assert in_database == wanted


def test_every_notification_kind_is_in_the_constraint():
    assert declared()["ck_notifications_kind"] == set(KINDS)
