"""Hand-written statements run on the database driver itself, in a session's transaction.

A statement through SQLAlchemy costs 100-250 µs of CPU before the driver sees it (cache
key, execution context, parameter and result processing; for the ORM, identity map and
unit of work), where the driver itself needs 10-40 µs (bench/RESULTS.md, issue 17). The
statements every call's webhooks run (the call row and IVR state, ringing attempts, status
and console events, presence, the live shortlist, caller ID, opening hours) are written
once, as text (`Sql`, `run`) or as Core statements compiled once per dialect (`Compiled`,
`run_core`), and run on the session's own connection: in its transaction, so they commit
or roll back with everything the ORM wrote beside them.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import Executable


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


def marks(count: int) -> str:
    """`count` placeholders for `Sql.of`: "?, ?, ?" (an IN list, a VALUES row)."""
    return ", ".join("?" * count)


@dataclass(frozen=True)
class _Form:
    """A Core statement compiled for one dialect: its text, parameter order, processors."""

    text: str
    names: tuple[str, ...]
    compiled: Any
    binds: tuple[tuple[int, Callable[[Any], Any]], ...]
    results: tuple[Callable[[Any], Any] | None, ...]
    returns_rows: bool
    # Per positional parameter: its key, its name, and the bind parameter whose own value
    # it takes when the row has neither (None: let SQLAlchemy's construct_params decide).
    slots: tuple[tuple[str, str, Any], ...] | None = None


class Compiled:
    """A SQLAlchemy Core statement compiled once per dialect, run on the driver (`run_core`).

    For the statements the call path runs on every webhook: SQLAlchemy's own execution
    of a cached statement still costs ~100 µs (cache key, execution context, result
    object); this keeps only what it must do, the bind and result conversions of the
    statement's types (an instant as SQLite's text, JSON). Statements with expanding `IN`
    parameters are not supported (their text changes with the number of values).
    """

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._forms: dict[str, _Form] = {}

    def form(self, dialect: Dialect) -> _Form:
        """The statement compiled for this dialect (once)."""
        found = self._forms.get(dialect.name)
        if found is None:
            found = self._forms[dialect.name] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> _Form:
        compiled: Any = cast(Any, self.statement).compile(dialect=dialect)
        names = tuple(compiled.positiontup or ())
        processors = compiled._bind_processors
        binds = tuple(
            (i, _bind_processor(compiled, n, processors[n], dialect))
            for i, n in enumerate(names)
            if n in processors
        )
        results = tuple(
            entry.type._cached_result_processor(dialect, None) for entry in compiled._result_columns
        )
        returns_rows = bool(self.statement.is_select or compiled.effective_returning)
        return _Form(
            compiled.string, names, compiled, binds, results, returns_rows, _slots(compiled, names)
        )


def _bind_processor(
    compiled: Any, name: str, processor: Callable[[Any], Any], dialect: Dialect
) -> Callable[[Any], Any]:
    """The bind parameter's processor, or the one function its type offers for the same
    (`driver_bind`: an instant's column, where SQLAlchemy chains the type's conversion and
    the dialect's in two calls with a dialect lookup between)."""
    bind = compiled.binds.get(name)
    own = getattr(getattr(bind, "type", None), "driver_bind", None)
    return own(dialect) if own is not None else processor


def _slots(compiled: Any, names: tuple[str, ...]) -> tuple[tuple[str, str, Any], ...] | None:
    """Where each positional parameter's value comes from, as `construct_params` finds it
    (the row's value by the bind parameter's key, else by its name, else the parameter's
    own value; the last bind parameter of a name wins), read once so that a row's values
    are picked in a loop (construct_params walks every bind parameter, ~10 µs a row). None
    for what that loop does not cover: escaped or expanding names."""
    if compiled.escaped_bind_names or getattr(compiled, "_render_postcompile", False):
        return None
    by_name: dict[str, Any] = {}
    for bind, name in compiled.bind_names.items():
        if bind.expanding:
            return None
        by_name[name] = bind
    if any(name not in by_name for name in names):
        return None
    return tuple((by_name[name].key, name, by_name[name]) for name in names)


async def run_core(
    session: AsyncSession, statement: Compiled, params: Mapping[str, Any]
) -> Outcome:
    """Run a `Compiled` statement in the session's transaction, its rows converted."""
    dialect = _dialect(session)
    form = statement.form(dialect)
    ordered = _ordered(form, params)
    adapted = await _adapted(session)
    if dialect.name == "sqlite":
        found = await _run_sqlite(adapted, form.text, ordered, False)
    else:
        begin = _check_alone(session, form.text)
        found = await _run_asyncpg(
            adapted, form.text, ordered, False, rows=form.returns_rows, begin=begin
        )
    if found.rows and any(form.results):
        processors = form.results
        rows: list[Sequence[Any]] = [
            tuple(p(v) if p is not None else v for p, v in zip(processors, row, strict=False))
            for row in found.rows
        ]
        return Outcome(rows, found.rowcount)
    return found


async def run_core_many(
    session: AsyncSession, statement: Compiled, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Run a `Compiled` statement (an INSERT or UPDATE) once per row, in one call.

    On PostgreSQL asyncpg sends the rows in one pipelined batch: one round trip, not one
    per row. Nothing is run for no rows.
    """
    if not rows:
        return
    if len(rows) == 1:
        await run_core(session, statement, rows[0])
        return
    dialect = _dialect(session)
    form = statement.form(dialect)
    batch = [_ordered(form, row) for row in rows]
    adapted = await _adapted(session)
    if dialect.name == "sqlite":
        await _run_sqlite(adapted, form.text, batch, True)
    else:
        await _run_asyncpg(adapted, form.text, batch, True, begin=_check_alone(session, form.text))


def _ordered(form: _Form, params: Mapping[str, Any]) -> list[Any]:
    """A row's parameters in the statement's order, converted as SQLAlchemy would."""
    ordered: list[Any]
    if form.slots is None or not params:
        values = form.compiled.construct_params(params, _check=False)
        ordered = [values[name] for name in form.names]
    else:
        ordered = []
        for key, name, bind in form.slots:
            if key in params:
                ordered.append(params[key])
            elif name in params:
                ordered.append(params[name])
            else:
                ordered.append(bind.effective_value if bind.callable else bind.value)
    for index, process in form.binds:
        ordered[index] = process(ordered[index])
    return ordered


@dataclass(frozen=True)
class Outcome:
    """The rows a statement returned and how many rows it changed."""

    rows: list[Sequence[Any]]
    rowcount: int


_CONNECTION = "switchboard.driver_connection"
_OWN = "switchboard.own_connection"
_ALONE = "switchboard.statements_alone"
_WRITES = re.compile(r"\b(?:INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b", re.IGNORECASE)
_WRITING: dict[str, bool] = {}  # by statement text: whether it writes


class NeedsTransaction(Exception):
    """Statements run alone (`statements_alone`) met work that needs a transaction: a write
    other than the one final statement, the ORM, or a connection that failed. Nothing was
    written; the work is to be run again in a transaction.

    `by_the_work`: the work itself needs one (so will the same work next time), rather than
    a connection having failed under it.
    """

    def __init__(self, why: str, *, by_the_work: bool = True) -> None:
        super().__init__(why)
        self.by_the_work = by_the_work


class _Alone:
    """A session's statements run without a transaction (PostgreSQL): each read on its own,
    and at most one write, the last statement, atomic by itself (`final_statement`)."""

    __slots__ = ("final", "rerun_safe", "wrote")

    def __init__(self) -> None:
        self.final = False  # the next write is the final statement
        self.rerun_safe = False  # running the work again tells whether that write was made
        self.wrote = False  # the final statement ran (it may have committed)


def statements_alone(session: Session) -> None:
    """From now on, the session's driver statements run outside any transaction: reads
    each on its own, one final write (`final_statement`), anything else `NeedsTransaction`.
    For a webhook whose only write is one statement, guarded by what it checks itself
    (the call state's version): no BEGIN and no COMMIT, two round trips fewer."""
    session.info[_ALONE] = _Alone()


def runs_alone(session: Session) -> bool:
    """True while the session's statements run without a transaction."""
    return _ALONE in session.info


def wrote_alone(session: Session) -> bool:
    """True once the final statement of a session run alone was sent (it may have
    committed: the work must not be run again as if nothing had been written)."""
    alone: _Alone | None = session.info.get(_ALONE)
    return alone is not None and alone.wrote


def rerun_safe_alone(session: Session) -> bool:
    """True when the final statement of a session run alone was marked `rerun_safe`."""
    alone: _Alone | None = session.info.get(_ALONE)
    return alone is not None and alone.rerun_safe


def final_statement(session: AsyncSession, *, rerun_safe: bool = False) -> None:
    """The next write is the last statement of the session's work: run alone, it commits
    by itself. Nothing may be pending in the ORM (it would be written after).

    `rerun_safe`: when the connection fails under that write, the work may run again (in
    a transaction), as what it reads first tells whether the write was made: a call
    state's version that moved on, a CallSid already stored (`webhook_transaction`)."""
    alone: _Alone | None = session.info.get(_ALONE)
    if alone is None:
        return
    sync = session.sync_session
    if sync.in_transaction() or sync.new or sync.dirty or sync.deleted:
        raise NeedsTransaction("the ORM has work pending beside the final statement")
    alone.final = True
    alone.rerun_safe = rerun_safe


def _check_alone(session: AsyncSession, text: str) -> bool:
    """Whether the statement runs in a transaction (False: alone, by the rules above)."""
    alone: _Alone | None = session.info.get(_ALONE)
    if alone is None:
        return True
    if alone.wrote:  # it committed: running the work again would not be safe
        raise RuntimeError("a statement after the final one of statements run alone")
    writes = _WRITING.get(text)
    if writes is None:
        if len(_WRITING) >= 4096:  # statements are written once, but IN lists vary
            _WRITING.clear()
        writes = _WRITING[text] = bool(_WRITES.search(text))
    if writes:
        if not alone.final:
            raise NeedsTransaction(f"a write that is not the final statement: {text[:60]!r}")
        alone.wrote = True
    return False


async def _adapted(session: AsyncSession) -> Any:
    """SQLAlchemy's adapted DBAPI connection of the session's transaction.

    Kept in `session.info` for the transaction it belongs to: asking the session again
    costs more than most of the statements run here.
    """
    info = session.info
    own = info.get(_OWN)
    if own is not None:
        return own
    transaction = session.sync_session.get_transaction()
    kept = info.get(_CONNECTION)
    if transaction is not None and kept is not None and kept[0] is transaction:
        return kept[1]
    adapted = await session.run_sync(_dbapi_connection)  # one trip through the greenlet
    session.info[_CONNECTION] = (session.sync_session.get_transaction(), adapted)
    return adapted


def remember_own_connection(session: Session, adapted: Any) -> None:
    """The adapted DBAPI connection a transaction took for itself
    (`Database.webhook_transaction`): every statement here runs on it."""
    session.info[_OWN] = adapted


def forget_own_connection(session: Session) -> None:
    """The transaction gave its connection back."""
    session.info.pop(_OWN, None)


def _dbapi_connection(session: Session) -> Any:
    """The session's DBAPI connection (its transaction begins, as for any statement)."""
    return session.connection().connection.dbapi_connection


async def flush_pending(session: AsyncSession) -> None:
    """Write the session's pending ORM changes, as `session.flush()` (and autoflush before
    a statement) would; when nothing is pending, the usual case on the call path, without
    `flush`'s trip through SQLAlchemy's greenlet."""
    sync = session.sync_session
    if sync.new or sync.deleted or sync.identity_map.check_modified():
        await session.flush()


def _dialect(session: AsyncSession) -> Dialect:
    """The dialect of the engine (or connection) the session is bound to (the object:
    `app.core.db.dialect_of` gives its name).

    Read off the sync session's `bind`, plain attributes all the way: `AsyncSession.bind`
    and `AsyncEngine.dialect` are properties, which the call path asked ~8 times a webhook.
    """
    bind = session.sync_session.bind
    if bind is None:
        raise RuntimeError("the session is bound to no engine")
    return bind.dialect


def is_sqlite(session: AsyncSession) -> bool:
    """True when the session talks to SQLite."""
    bind = session.sync_session.bind
    return bind is not None and bind.dialect.name == "sqlite"


async def run(
    session: AsyncSession, sql: Sql, params: Sequence[Any] = (), *, many: bool = False
) -> Outcome:
    """Run one statement in the session's transaction; `many`: params is a list of rows."""
    adapted = await _adapted(session)
    if is_sqlite(session):
        return await _run_sqlite(adapted, sql.sqlite, params, many)
    begin = _check_alone(session, sql.postgresql)
    return await _run_asyncpg(adapted, sql.postgresql, params, many, begin=begin)


async def _run_sqlite(adapted: Any, text: str, params: Sequence[Any], many: bool) -> Outcome:
    values = list(params) if many else tuple(params)
    try:
        here = adapted.run_here(text, values, many)  # on the event loop: no cursor to adapt
    except Exception as error:
        raise _translated(text, error, adapted) from error
    if here is not None:
        return Outcome(here[3], here[1])
    cursor = adapted.cursor()
    try:
        await cursor._trip(text, values, many, here=False)  # to the database thread
    except Exception as error:
        raise _translated(text, error, adapted) from error
    return Outcome(list(cursor._rows), cursor._rowcount)


_COUNT = re.compile(r"(\d+)$")


async def _run_asyncpg(
    adapted: Any,
    text: str,
    params: Sequence[Any],
    many: bool,
    *,
    rows: bool | None = None,
    begin: bool = True,
) -> Outcome:
    driver = adapted._connection
    if rows is None:
        rows = " RETURNING " in text or text.lstrip()[:6].upper() in ("SELECT", "WITH ")
    async with adapted._execute_mutex:
        try:
            if begin and adapted._transaction is None and not adapted.autocommit:
                await adapted._start_transaction()
            if many:
                await driver.executemany(text, params)
                return Outcome([], len(params))
            if rows:
                found = await driver.fetch(text, *params)
                return Outcome(list(found), len(found))
            status: str = await driver.execute(text, *params)
        except exc.DBAPIError:
            raise
        except Exception as error:
            raise _translated(text, error, adapted) from error
    counted = _COUNT.search(status or "")
    return Outcome([], int(counted.group(1)) if counted else -1)


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
    if not sqlite:
        return value.astimezone(UTC)
    # A webhook writes its one `now` into several columns and rows: the text of the last
    # instant written is kept (an instant is immutable, so the same object has the same text).
    last = _last_text
    if last[0] is value:
        return last[1]
    text = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    _remember_text(value, text)
    return text  # strftime would be 2x slower


_last_text: tuple[datetime | None, str] = (None, "")


def _remember_text(value: datetime, text: str) -> None:
    global _last_text
    _last_text = (value, text)


def from_db_time(value: Any) -> datetime | None:
    """A stored instant as an aware UTC datetime (either database)."""
    if value is None:
        return None
    instant: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    if instant.tzinfo is None:
        return instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)
