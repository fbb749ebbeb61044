"""The service's own statements, recorded where they reach the driver, for pgbench and
EXPLAIN: ``Trace`` keeps what the engine sends (with call sites and literal SQL),
``InProcess`` sends real requests through the app in this process (README)."""

import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from sqlalchemy import event
from sqlalchemy.orm import Session

from bench.harness.database import ROOT
from bench.harness.server import mint_tokens

SERVICE = str(ROOT / "service") + "/"
COMMIT, ROLLBACK = "COMMIT", "ROLLBACK"


@dataclass
class Statement:
    """One cursor call (or a COMMIT / ROLLBACK marker: ``sql`` is the word)."""

    sql: str
    params: object  # dict, a list of dicts (executemany) or None
    many: bool
    seconds: float
    connection: int  # id() of the DBAPI connection
    site: str  # the innermost service frame that sent it, ``module:function``
    literal: list[str] = field(default_factory=list)  # rendered, one per execution

    @property
    def marker(self) -> bool:
        return self.sql in (COMMIT, ROLLBACK)

    @property
    def select(self) -> bool:
        """Whether it is one SELECT with named parameters (EXPLAIN can run it again)."""
        sql = self.sql.lstrip().upper()
        return not self.many and isinstance(self.params, dict) and sql.startswith("SELECT")


def call_site() -> str:
    """Name the innermost service frame on the stack: ``rewards.rules:_bounded_count``."""
    frame = sys._getframe(2)
    while frame is not None and not frame.f_code.co_filename.startswith(SERVICE):
        frame = frame.f_back
    if frame is None:
        return "(outside service/)"
    return f"{frame.f_code.co_filename[len(SERVICE) : -3].replace('/', '.')}:{frame.f_code.co_name}"


class Trace:
    """Record every statement on ``engine`` while entered."""

    EVENTS = ("before_cursor_execute", "after_cursor_execute", "commit", "rollback")

    def __init__(self, engine, render: bool = False):
        self.engine, self.render = engine, render
        self.statements: list[Statement] = []
        self._started: dict[int, float] = {}
        self._commits: dict[int, tuple[float, int]] = {}
        self._handlers = (self._before, self._after, self._commit, self._rollback)

    def __enter__(self):
        for name, handler in zip(self.EVENTS, self._handlers, strict=True):
            event.listen(self.engine, name, handler)
        event.listen(Session, "after_commit", self._committed)
        return self

    def __exit__(self, *exc):
        for name, handler in zip(self.EVENTS, self._handlers, strict=True):
            event.remove(self.engine, name, handler)
        event.remove(Session, "after_commit", self._committed)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self._started[id(cursor)] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        seconds = time.perf_counter() - self._started.pop(id(cursor), time.perf_counter())
        dbapi = conn.connection.dbapi_connection
        entry = Statement(statement, parameters, executemany, seconds, id(dbapi), call_site())
        if self.render:  # on its own connection, before anything changes its adapters
            client = psycopg.ClientCursor(dbapi)
            many = executemany and isinstance(parameters, list | tuple)
            entry.literal = [
                client.mogrify(statement, p) for p in (parameters if many else [parameters])
            ]
        self.statements.append(entry)

    def _commit(self, conn):
        dbapi = conn.connection.dbapi_connection
        self._commits[id(dbapi)] = (time.perf_counter(), len(self.statements))
        self.statements.append(Statement(COMMIT, None, False, 0.0, id(dbapi), call_site()))

    def _committed(self, session):
        """Charge a session's COMMIT round trip to its marker."""
        now = time.perf_counter()
        for started, index in self._commits.values():
            if index < len(self.statements):
                self.statements[index].seconds = now - started
        self._commits.clear()

    def _rollback(self, conn):
        dbapi = conn.connection.dbapi_connection
        self.statements.append(Statement(ROLLBACK, None, False, 0.0, id(dbapi), call_site()))


PARAM = re.compile(r"%\((\w+)\)s")


@dataclass
class Sent:
    """One request sent in process: its answer, and the statements it sent."""

    status: int
    answer: dict
    statements: list[Statement]
    wall_s: float


class InProcess:
    """Requests as seeded users through the app in this process, and what each sent."""

    def __init__(self, app):
        from service.database import Database

        self.app, self.engine = app, Database.state(app).engine
        self.client, self.tokens = app.test_client(), {}
        self.client.get("/readyz")  # the engine's first connection: dialect set-up

    def send(self, user_id: int, method: str, path: str, body: str | None = None,
             render: bool = False) -> Sent:  # fmt: skip
        """Send one request as ``user_id`` (a JSON ``body``, if any)."""
        if user_id not in self.tokens:
            self.tokens.update(mint_tokens(self.app, [user_id]))
        headers = {"Authorization": f"Bearer {self.tokens[user_id]}"}
        kind = {"content_type": "application/json"} if body is not None else {}
        with Trace(self.engine, render=render) as trace:
            started = time.perf_counter()
            response = self.client.open(path, method=method, data=body, headers=headers, **kind)
            wall = time.perf_counter() - started
        answer = response.get_json(silent=True) or {}
        return Sent(response.status_code, answer, trace.statements, wall)

    def close(self) -> None:
        self.engine.dispose()


def capture(app, call: Callable[[], object]) -> list[Statement]:
    """Every statement ``call()`` sends in an app context (rolled back after), rendered."""
    from service.database import Database, db

    with app.app_context(), Trace(Database.state(app).engine, render=True) as trace:
        call()
        db.session.rollback()
    return [entry for entry in trace.statements if not entry.marker]


def with_params(statements: list[Statement], names: set[str]) -> Statement:
    """The one statement whose parameters include all ``names``."""
    found = [s for s in statements if s.select and set(s.params) >= names]
    if len(found) != 1:
        raise RuntimeError(f"{len(found)} statements sent with parameters {sorted(names)}")
    return found[0]


def compiled(statement) -> str:
    """Compile a SQLAlchemy statement for psycopg (``%(name)s`` parameters)."""
    from sqlalchemy.dialects.postgresql import psycopg as dialect

    return statement.compile(dialect=dialect.dialect()).string


def positions_script(points: list[tuple[float, float]], sql: str, values: dict) -> str:
    """Write a pgbench script running ``sql`` at a random one of ``points``."""
    lines = [f"\\set n random(0, {len(points) - 1})"]
    for axis, index in (("lat", 0), ("lon", 1)):
        lines.append(f"\\set {axis} {_pick([f'{p[index]:.7f}' for p in points], 0, len(points))}")
    lines += [f"\\set {key} {value}" for key, value in values.items()]
    lines.append(PARAM.sub(lambda m: f":{m.group(1)}", sql).replace("\n", " ") + ";")
    return "\n".join(lines) + "\n"


def _pick(values: list[str], low: int, high: int) -> str:
    """Pick ``values[:n]`` with a balanced tree of CASEs (pgbench has no arrays)."""
    if high - low == 1:
        return values[low]
    middle = (low + high) // 2
    left, right = _pick(values, low, middle), _pick(values, middle, high)
    return f"CASE WHEN :n < {middle} THEN {left} ELSE {right} END"
