"""Declarative base and shared column types."""

from datetime import datetime

from geoalchemy2 import Geography
from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# spatial_index=False: the GiST indexes are declared explicitly (and made by migrations).
GeogPoint = Geography(geometry_type="POINT", srid=4326, spatial_index=False)


class Base(DeclarativeBase):
    """Base of every model."""

    metadata = MetaData(naming_convention=NAMING)


def one_of(column: str, values: tuple[str, ...]) -> str:
    """A check constraint's text: ``column IN ('a', 'b')``, from the tuple that declares
    the values (which hold no quotes)."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


def created_at_column() -> Mapped[datetime]:
    """A ``created_at timestamptz`` set by the database."""
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
