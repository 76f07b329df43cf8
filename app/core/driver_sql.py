"""Hand-written statements run on the database driver itself, in a session's transaction.

A statement through SQLAlchemy costs 100-250 µs of CPU before the driver sees it (cache
key, execution context, parameter and result processing; for the ORM, identity map and
unit of work), where the driver itself needs 10-40 µs (bench/RESULTS.md, issue 17). The
call path's few statements that every webhook runs (its call row and IVR state) are written
here once per dialect and run on the session's own connection: in its transaction, so they
commit or roll back with everything the ORM wrote beside them.

- SQLite: through `OneTripCursor` (app/core/sqlite_driver.py): on the event loop inside
  `statements_on_loop()`, else one trip to aiosqlite's thread; a write that would wait for
  another process's lock waits in that thread.
- PostgreSQL: asyncpg's `fetch`/`execute`, prepared once per connection by asyncpg's own
  statement cache; the transaction SQLAlchemy's adapter would open for its first statement
  is opened first, so nothing here runs outside it.

Errors come out as SQLAlchemy's (`IntegrityError` and the rest), as from `session.execute`,
so callers keep one way of telling a lost race from a failure. Values go in and come out as
the driver has them: `to_db_time`/`from_db_time` convert instants as `UTCDateTime` does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Sql:
    """One statement in SQLite's form (`?` placeholders) and PostgreSQL's (`$1`, `$2`...)."""

    sqlite: str
    postgresql: str = field(default="")

    @classmethod
    def of(cls, text: str, *, postgresql_suffix: str = "") -> Sql:
        """The statement `text` (`?` placeholders) for both; PostgreSQL's may add a suffix
        (a row lock: `FOR UPDATE`)."""
        counter = iter(range(1, 10_000))
        postgresql = re.sub(r"\?", lambda _: f"${next(counter)}", text + postgresql_suffix)
        return cls(text, postgresql)


@dataclass(frozen=True)
class Outcome:
    """The rows a statement returned and how many rows it changed."""

    rows: list[Sequence[Any]]
    rowcount: int


_CONNECTION = "switchboard.driver_connection"


async def _adapted(session: AsyncSession) -> Any:
    """SQLAlchemy's adapted DBAPI connection of the session's transaction.

    Kept in `session.info` for the transaction it belongs to: asking the session again
    costs more than most of the statements run here.
    """
    transaction = session.sync_session.get_transaction()
    kept = session.info.get(_CONNECTION)
    if transaction is not None and kept is not None and kept[0] is transaction:
        return kept[1]
    connection = await session.connection()
    fairy = await connection.get_raw_connection()
    session.info[_CONNECTION] = (session.sync_session.get_transaction(), fairy.dbapi_connection)
    return fairy.dbapi_connection


def is_sqlite(session: AsyncSession) -> bool:
    """True when the session talks to SQLite."""
    bind = session.bind
    return bind is not None and bind.dialect.name == "sqlite"


async def run(
    session: AsyncSession, sql: Sql, params: Sequence[Any] = (), *, many: bool = False
) -> Outcome:
    """Run one statement in the session's transaction; `many`: params is a list of rows."""
    adapted = await _adapted(session)
    if is_sqlite(session):
        return await _run_sqlite(adapted, sql.sqlite, params, many)
    return await _run_asyncpg(adapted, sql.postgresql, params, many)


async def _run_sqlite(adapted: Any, text: str, params: Sequence[Any], many: bool) -> Outcome:
    cursor = adapted.cursor()
    try:
        await cursor._trip(text, list(params) if many else tuple(params), many)
    except Exception as error:
        raise _translated(text, error, adapted) from error
    return Outcome(list(cursor._rows), cursor._rowcount)


_COUNT = re.compile(r"(\d+)$")


async def _run_asyncpg(adapted: Any, text: str, params: Sequence[Any], many: bool) -> Outcome:
    driver = adapted._connection
    async with adapted._execute_mutex:
        try:
            if adapted._transaction is None and not adapted.autocommit:
                await adapted._start_transaction()
            if many:
                await driver.executemany(text, params)
                return Outcome([], len(params))
            if " RETURNING " in text or text.lstrip()[:6].upper() == "SELECT":
                rows = await driver.fetch(text, *params)
                return Outcome(list(rows), len(rows))
            status: str = await driver.execute(text, *params)
        except exc.DBAPIError:
            raise
        except Exception as error:
            raise _translated(text, error, adapted) from error
    found = _COUNT.search(status or "")
    return Outcome([], int(found.group(1)) if found else -1)


def _translated(text: str, error: Exception, adapted: Any) -> Exception:
    """The driver's error as SQLAlchemy raises it (IntegrityError, OperationalError...)."""
    dbapi = adapted.dbapi
    orig = error
    if not isinstance(error, dbapi.Error):
        try:  # asyncpg's errors, turned into the adapter's DBAPI classes
            adapted._handle_exception(error)
        except dbapi.Error as converted:
            orig = converted
        except Exception:
            return error
    if not isinstance(orig, dbapi.Error):
        return error
    translated: Exception = exc.DBAPIError.instance(
        text, None, orig, dbapi.Error, hide_parameters=True
    )
    return translated


def to_db_time(value: datetime | None, *, sqlite: bool) -> Any:
    """An aware instant as the column stores it (SQLite: naive UTC text, as SQLAlchemy)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored; attach a time zone")
    value = value.astimezone(UTC)
    if not sqlite:
        return value
    return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def from_db_time(value: Any) -> datetime | None:
    """A stored instant as an aware UTC datetime (either database)."""
    if value is None:
        return None
    instant: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    if instant.tzinfo is None:
        return instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)
