"""Every SQL statement the service sends, recorded at the cursor, with where it came from.

``Trace`` listens to SQLAlchemy's cursor events on the app's engine, so it sees exactly
what reaches psycopg — whatever function built the statement, ORM flush or Core, however
the service code is arranged — and relies on no name inside ``service/``. Each statement
is kept with its parameters, its time (before to after the cursor call: the round trip
and psycopg's work), the connection it ran on, and its call site: the innermost frame of
the stack inside ``service/`` (``rewards.rules:_bounded_count``) and the service frames
around it, found from the stack when the statement runs. COMMITs are timed too (from
the connection's ``commit`` event to the session's ``after_commit``) and ROLLBACKs noted,
so a request's transactions can be told apart.

``render`` turns a statement and its parameters into literal SQL with psycopg's own
client-side binding (``ClientCursor.mogrify`` on the connection the statement ran on,
with that connection's adapters), the text a ``pgbench`` script can replay.
"""

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

SERVICE = str(Path(__file__).resolve().parents[1] / "service") + "/"
COMMIT = "COMMIT"
ROLLBACK = "ROLLBACK"
CHAIN = 16  # service frames kept per statement, innermost first


@dataclass
class Statement:
    """One cursor call (or a COMMIT / ROLLBACK marker: ``sql`` is the word)."""

    sql: str
    params: object  # dict, a list of dicts (executemany) or None
    many: bool
    seconds: float
    connection: int  # id() of the DBAPI connection
    sites: tuple[str, ...]  # service call sites, innermost first
    literal: list[str] = field(default_factory=list)  # rendered, one per execution

    @property
    def site(self) -> str:
        return self.sites[0] if self.sites else "(outside service/)"

    @property
    def marker(self) -> bool:
        return self.sql in (COMMIT, ROLLBACK)


def call_sites(depth: int = 2) -> tuple[str, ...]:
    """``module:function`` of the service frames on the current stack, innermost first
    (consecutive frames of one function, recursion, counted once)."""
    found: list[str] = []
    frame = sys._getframe(depth)
    while frame is not None and len(found) < CHAIN:
        path = frame.f_code.co_filename
        if path.startswith(SERVICE):
            module = path[len(SERVICE) : -3].replace("/", ".")
            site = f"{module}:{frame.f_code.co_name}"
            if not found or found[-1] != site:
                found.append(site)
        frame = frame.f_back
    return tuple(found)


class Trace:
    """Records every statement on ``engine`` while enabled (a context manager).

    ``render=True`` also renders each statement to literal SQL as it runs (on its own
    connection, before the next statement can change any adapter state)."""

    def __init__(self, engine: Engine, render: bool = False):
        self.engine, self.render = engine, render
        self.statements: list[Statement] = []
        self._started: dict[int, float] = {}
        self._commit_started: dict[int, tuple[float, int]] = {}

    def take(self) -> list[Statement]:
        """The statements recorded since the last ``take``."""
        taken, self.statements = self.statements, []
        return taken

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        event.listen(self.engine, "commit", self._commit)
        event.listen(self.engine, "rollback", self._rollback)
        event.listen(Session, "after_commit", self._committed)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)
        event.remove(self.engine, "commit", self._commit)
        event.remove(self.engine, "rollback", self._rollback)
        event.remove(Session, "after_commit", self._committed)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self._started[id(cursor)] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        seconds = time.perf_counter() - self._started.pop(id(cursor), time.perf_counter())
        dbapi = conn.connection.dbapi_connection
        entry = Statement(statement, parameters, executemany, seconds, id(dbapi), call_sites())
        if self.render:
            entry.literal = render(dbapi, statement, parameters, executemany)
        self.statements.append(entry)

    def _commit(self, conn):
        dbapi = conn.connection.dbapi_connection
        self._commit_started[id(dbapi)] = (time.perf_counter(), len(self.statements))
        self.statements.append(Statement(COMMIT, None, False, 0.0, id(dbapi), call_sites()))

    def _committed(self, session):
        """After a session's COMMIT: charge its round trip to the COMMIT marker."""
        now = time.perf_counter()
        for key, (started, index) in list(self._commit_started.items()):
            if index < len(self.statements):
                self.statements[index].seconds = now - started
            del self._commit_started[key]

    def _rollback(self, conn):
        dbapi = conn.connection.dbapi_connection
        self.statements.append(Statement(ROLLBACK, None, False, 0.0, id(dbapi), call_sites()))


def render(dbapi: psycopg.Connection, sql: str, params, many: bool) -> list[str]:
    """Literal SQL, one per execution, with psycopg's client-side binding."""
    cursor = psycopg.ClientCursor(dbapi)
    if many and isinstance(params, list | tuple):
        return [cursor.mogrify(sql, one) for one in params]
    return [cursor.mogrify(sql, params)]  # as executed: ``{}`` still unescapes ``%%``
