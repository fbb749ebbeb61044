"""Place the schema on a Citus cluster (``service.models.distribution`` is the plan).

Citus takes its steps in one order only: foreign keys between tables it will place
differently are refused while the tables are local, so every foreign key is dropped
first, then the reference tables are created, then the distributed ones group by group,
and the foreign keys Citus supports are added back. The ones it refuses (a user-keyed
row pointing at another user, a venue pointing at its owner) are listed in
docs/SCALING.md: the code never relied on them to cascade.
"""

import os

from sqlalchemy import text

from service.models.distribution import DISTRIBUTED, REFERENCE, REPLACED_UNIQUES, planned_tables

IGNORED = {"spatial_ref_sys", "alembic_version"}

_FOREIGN_KEYS = text(
    """
    SELECT c.conname, c.conrelid::regclass::text AS source, c.confrelid::regclass::text AS target,
           pg_get_constraintdef(c.oid) AS definition,
           ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i)
               AS columns,
           ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                 JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
               AS target_columns
    FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
    WHERE c.contype = 'f' AND n.nspname = 'public'
    ORDER BY c.conrelid::regclass::text, c.conname
    """
)


def wanted(connection) -> bool:
    """Whether to distribute: ``DATABASE_DISTRIBUTED=citus`` insists (and fails where the
    extension is missing), ``none`` refuses, unset means "when this is a Citus database"."""
    setting = os.environ.get("DATABASE_DISTRIBUTED", "").strip().lower()
    if setting in ("none", "off", "no"):
        return False
    present = connection.execute(
        text("SELECT 1 FROM pg_extension WHERE extname = 'citus'")
    ).scalar()
    if setting == "citus" and not present:
        raise RuntimeError(
            "DATABASE_DISTRIBUTED=citus, but this database has no Citus extension: "
            "CREATE EXTENSION citus on the coordinator and every worker first"
        )
    return bool(present)


def placement() -> dict[str, tuple[str, str]]:
    """table → (its distribution column or '' for a reference table, its group's first table)."""
    placed = {table: ("", "reference") for table in REFERENCE}
    for item in DISTRIBUTED:
        placed[item.table] = (item.column, item.colocate_with or item.table)
    return placed


def supported(fk, placed) -> bool:
    """Whether Citus keeps this foreign key: to a reference table from anywhere placed,
    or between two tables of one group through the distribution column in the same place."""
    source_column, source_group = placed[fk.source]
    target_column, target_group = placed[fk.target]
    if target_group == "reference":
        return True
    if source_group != target_group or not source_column:
        return False
    columns, targets = list(fk.columns), list(fk.target_columns)
    return source_column in columns and targets[columns.index(source_column)] == target_column


def _unplanned(connection) -> set[str]:
    tables = connection.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    ).scalars()
    return set(tables) - planned_tables() - IGNORED


def distribute(connection) -> list[str]:
    """Apply the plan to an undistributed schema; the foreign keys Citus refused."""
    missing = _unplanned(connection)
    if missing:
        raise RuntimeError(f"tables without a place on Citus: {sorted(missing)}")
    placed = placement()
    # one connection per node for the whole step: Citus refuses a foreign key to a
    # reference table after parallel shard work in the same transaction
    connection.execute(text("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'"))
    foreign_keys = connection.execute(_FOREIGN_KEYS).all()
    for fk in foreign_keys:
        connection.execute(text(f'ALTER TABLE "{fk.source}" DROP CONSTRAINT "{fk.conname}"'))
    for index in REPLACED_UNIQUES:
        connection.execute(text(f'DROP INDEX IF EXISTS "{index}"'))
    for table in REFERENCE:
        connection.execute(text("SELECT create_reference_table(:t)"), {"t": table})
    for item in DISTRIBUTED:
        connection.execute(
            text("SELECT create_distributed_table(:t, :c, colocate_with => :w)"),
            {"t": item.table, "c": item.column, "w": item.colocate_with or "none"},
        )
    # Every session of this database: one connection per node for multi-shard statements.
    # Citus refuses to write a reference table after a parallel multi-shard statement of
    # the same transaction when a distributed table refers to it (most refer to venues),
    # and a request may do both; one connection per node also bounds a worker's
    # connections by the API's pool, not pool times shards (docs/SCALING.md measures the cost).
    database = connection.execute(text("SELECT current_database()")).scalar()
    connection.execute(
        text(f"ALTER DATABASE \"{database}\" SET citus.multi_shard_modify_mode TO 'sequential'")
    )
    refused = []
    for fk in foreign_keys:
        if supported(fk, placed):
            connection.execute(
                text(f'ALTER TABLE "{fk.source}" ADD CONSTRAINT "{fk.conname}" {fk.definition}')
            )
        else:
            refused.append(fk.conname)
    return refused
