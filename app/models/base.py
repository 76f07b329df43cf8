"""ORM base: naming convention for constraints and a UTC timestamp type."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache, partial
from typing import Any, TypeVar

from sqlalchemy import DateTime, Index, MetaData, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from app.core.driver_sql import to_db_time

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite hands a deleted row's id to the next insert unless the table is AUTOINCREMENT, and an
# id that comes back makes a stale ETag (`override-9-v1`) and the audit trail of a deleted
# row match a new one. Tables whose ids the API or Twilio's callback URLs show use this;
# PostgreSQL's identity sequences never reuse an id anyway.
NEVER_REUSE_IDS: dict[str, Any] = {"sqlite_autoincrement": True}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a time zone")
        value = value.astimezone(UTC)
        # SQLite has no time zone type: store naive UTC text.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def copy(self, **kw: Any) -> UTCDateTime:
        return UTCDateTime()

    def driver_bind(self, dialect: Dialect) -> Callable[[datetime | None], Any]:
        """What this type's bind processing gives the driver, as one function: for
        statements run on the driver (`app.core.driver_sql.Compiled`), which would otherwise
        call `process_bind_param` and then the dialect's own DATETIME processor per value."""
        return partial(to_db_time, sqlite=dialect.name == "sqlite")


class Base(DeclarativeBase):
    """Declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


M = TypeVar("M", bound=Base)


def unevented(mapped: type[M], **values: Any) -> M:
    """A transient instance of `mapped` holding `values`, made without the constructor's
    per-attribute events (a call's seven: ~20 µs to ~1 µs).

    For the call path's new calls and attempts, which its own statements write
    (`app.calls.records`) and which no session ever holds: the ORM would not know the values
    were set. Anything to be `session.add`-ed is made with the constructor.
    """
    unknown = values.keys() - _columns(mapped)
    if unknown:
        raise TypeError(f"{mapped.__name__} has no column {', '.join(sorted(unknown))}")
    obj: M = mapped.__mapper__.class_manager.new_instance()
    obj.__dict__.update(values)
    return obj


@cache
def _columns(mapped: type[Base]) -> frozenset[str]:
    return frozenset(mapped.__mapper__.columns.keys())


def set_only_index(table: str, column: str) -> Index:
    """An index of a column's non-NULL values only (a partial index, on both databases).

    For a column most rows leave NULL when written, or fill in later: a full index would
    file every new row under NULL, one more index page written per commit, for lookups
    that never ask for NULL (`column = x` and `column IN (...)` still use this index).
    """
    where = text(f"{column} IS NOT NULL")
    return Index(f"ix_{table}_{column}", column, sqlite_where=where, postgresql_where=where)
