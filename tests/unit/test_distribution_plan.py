"""The Citus plan places every table of the schema, each group's first table first."""

from service.models import Base
from service.models.distribution import DISTRIBUTED, REFERENCE, planned_tables


def test_every_table_has_a_place():
    assert {table.name for table in Base.metadata.sorted_tables} == planned_tables()


def test_each_table_is_placed_once():
    names = list(REFERENCE) + [item.table for item in DISTRIBUTED]
    assert len(names) == len(set(names))


def test_a_group_starts_before_its_members():
    seen = set()
    for item in DISTRIBUTED:
        assert item.colocate_with is None or item.colocate_with in seen, item
        seen.add(item.table)
