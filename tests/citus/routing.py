"""Capture the statements a request sends and say, from ``EXPLAIN``, where Citus runs each:
on one person's shard, on the venue's, on a reference table's local copy, on the
coordinator alone, or on several shards."""

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine, event, text

EXPLAINABLE = re.compile(r"^\s*(WITH|SELECT|INSERT|UPDATE|DELETE|VALUES)\b", re.IGNORECASE)
SHARD_NAME = re.compile(r"^(?P<table>.+)_(?P<shard>\d{6,})$")
PULLED = "pull to coordinator"

# The routing labels, as the table prints them.
COORDINATOR = "coordinator"  # no distributed table: runs on the coordinator alone
REFERENCE = "reference"  # reference tables only: one task on a copy
VIA_COORDINATOR = "via coordinator"  # INSERT…SELECT pulled to the coordinator, rows by key
PEOPLE = "people's shards"  # the shards of the scenario's people, more than one
ALL_SHARDS = "all shards"  # a shard holding none of the scenario's people (no pruning)


@dataclass
class Statement:
    """One statement as the app sent it, and what ``EXPLAIN`` says of it."""

    sql: str
    parameters: object
    scans: list[str] = field(default_factory=list)  # Citus custom scans
    methods: list[str] = field(default_factory=list)  # INSERT/SELECT methods
    task_counts: list[int] = field(default_factory=list)  # per job and subplan
    shards: set[int] = field(default_factory=set)
    local_tables: set[str] = field(default_factory=set)  # tables scanned on the coordinator
    nodes: set[int] = field(default_factory=set)  # ports the tasks run on
    routing: str = ""

    @property
    def one_line(self) -> str:
        return " ".join(self.sql.split())

    @property
    def tasks(self) -> int:
        return sum(self.task_counts)


@contextmanager
def captured(engine: Engine) -> Iterator[list[Statement]]:
    """Every statement ``engine``'s connections send meanwhile, with its parameters."""
    statements: list[Statement] = []

    def before(_conn, _cursor, statement, parameters, _context, executemany):
        if executemany and parameters:
            parameters = parameters[0]  # one row is enough to plan it
        statements.append(Statement(statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _walk(node, statement: Statement) -> None:
    if isinstance(node, list):
        for value in node:
            _walk(value, statement)
        return
    if not isinstance(node, dict):
        return
    if node.get("Node Type") == "Custom Scan" and "Custom Plan Provider" in node:
        statement.scans.append(node["Custom Plan Provider"])
    if "INSERT/SELECT method" in node:
        statement.methods.append(node["INSERT/SELECT method"])
    job = node.get("Job")
    if isinstance(job, dict) and "Task Count" in job:
        statement.task_counts.append(job["Task Count"])
    where = node.get("Node")
    if isinstance(where, str) and (port := re.search(r"port=(\d+)", where)):
        statement.nodes.add(int(port[1]))
    name = node.get("Relation Name")
    if isinstance(name, str):
        if match := SHARD_NAME.match(name):
            statement.shards.add(int(match["shard"]))
        else:
            statement.local_tables.add(name)
    for value in node.values():
        _walk(value, statement)


def explain(connection, statement: Statement) -> None:
    """Fill in what ``EXPLAIN (FORMAT JSON)`` of ``statement`` with its own parameters
    shows (it plans; it runs nothing, an INSERT included)."""
    raw = connection.exec_driver_sql(
        "EXPLAIN (FORMAT JSON) " + statement.sql, statement.parameters or None
    ).scalar()
    _walk(raw if isinstance(raw, list) else json.loads(raw), statement)


@dataclass
class Placement:
    """Where the scenario's rows live: each person's shards (one per table of the user
    group), the venue's (one per table of the venue group), the reference tables' shards,
    and the worker port holding each person's shards."""

    people: dict[str, set[int]]
    venue: set[int]
    reference: set[int]
    nodes: dict[str, int]

    @classmethod
    def read(cls, connection, people: dict[str, int], venue_id: int) -> "Placement":
        def group(anchor: str, key: int) -> set[int]:
            return set(
                connection.execute(
                    text(
                        "SELECT get_shard_id_for_distribution_column(logicalrelid, :key)"
                        " FROM pg_dist_partition WHERE colocationid = (SELECT colocationid"
                        " FROM pg_dist_partition WHERE logicalrelid = CAST(:anchor AS regclass))"
                    ),
                    {"anchor": anchor, "key": key},
                ).scalars()
            )

        reference = connection.execute(
            text(
                "SELECT shardid FROM pg_dist_shard JOIN pg_dist_partition USING (logicalrelid)"
                " WHERE partmethod = 'n'"
            )
        ).scalars()
        nodes = {
            name: connection.execute(
                text(
                    "SELECT nodeport FROM citus_shards WHERE shardid ="
                    " get_shard_id_for_distribution_column('users', :id)"
                ),
                {"id": user_id},
            ).scalar_one()
            for name, user_id in people.items()
        }
        return cls(
            people={name: group("users", user_id) for name, user_id in people.items()},
            venue=group("venue_visit_days", venue_id),
            reference=set(reference),
            nodes=nodes,
        )

    def label(self, statement: Statement) -> str:
        """The statement's routing label: a person's name, "venue", or one of the
        labels above."""
        if not statement.scans:
            return COORDINATOR
        if PULLED in statement.methods:
            return VIA_COORDINATOR
        distributed = statement.shards - self.reference
        if not distributed:
            return REFERENCE
        one_task = statement.task_counts and max(statement.task_counts) == 1
        if one_task and distributed <= self.venue:
            return "venue"
        for name, shards in self.people.items():
            if one_task and distributed <= shards:
                return name
        if distributed <= set().union(*self.people.values()):
            return PEOPLE
        return ALL_SHARDS


def explained(engine: Engine, statements: list[Statement], placement: Placement):
    """``explain`` and label each explainable statement, each on its own in autocommit on
    a coordinator connection of its own with every task shown; the others (SAVEPOINT,
    SET) are left out."""
    kept = [s for s in statements if EXPLAINABLE.match(s.sql)]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SET citus.explain_all_tasks = on"))
        for statement in kept:
            explain(conn, statement)
            statement.routing = placement.label(statement)
    return kept


@dataclass(frozen=True)
class Stated:
    """A statement allowed off the user's own shard: what it is, how to know it (a
    pattern of its SQL on one line), where it may run and why."""

    what: str
    pattern: str
    routings: frozenset[str]
    reason: str

    def matches(self, statement: Statement) -> bool:
        return re.search(self.pattern, statement.one_line) is not None


def stated(what: str, pattern: str, routings: set[str] | str, reason: str) -> Stated:
    routings = {routings} if isinstance(routings, str) else routings
    return Stated(what, pattern, frozenset(routings), reason)


def table(title: str, statements: list[Statement], reasons: dict[int, str]) -> str:
    """The statements and their routing as text (for the log and docs/SCALING.md):
    tasks per distributed job (a CTE or subquery planned apart is a job of its own), the
    worker ports they run on, and why each stated statement leaves my shard."""
    lines = [f"## {title}", ""]
    lines.append(f"{'#':>3}  {'routing':<16} {'tasks':>5}  {'nodes':<15}  statement / why")
    for index, statement in enumerate(statements, 1):
        nodes = ",".join(str(port) for port in sorted(statement.nodes)) or "-"
        tasks = "+".join(str(count) for count in statement.task_counts) or "-"
        lines.append(
            f"{index:>3}  {statement.routing:<16} {tasks:>5}  {nodes:<15}  "
            f"{statement.one_line[:150]}"
        )
        if index in reasons:
            lines.append(f"{'':>47}why: {reasons[index]}")
    return "\n".join(lines) + "\n"
