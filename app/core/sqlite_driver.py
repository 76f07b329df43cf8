"""aiosqlite with one trip to its thread per statement, not four.

SQLAlchemy's aiosqlite adapter makes a cursor, executes, fetches and closes the cursor as
four separate jobs for aiosqlite's database thread, each a queue put, a thread wake-up and
an event-loop wake-up (measured: about a fifth of a webhook's CPU on SQLite). This cursor
does the four in one job. Everything else (the connection, commit, rollback, the thread
itself, error translation) is aiosqlite's and SQLAlchemy's, unchanged; server-side
cursors (`stream`) keep SQLAlchemy's own cursor.

It calls aiosqlite's `Connection._execute` (queue a function for the database thread),
a private method: aiosqlite is pinned in pyproject.toml, and
tests/foundation/test_sqlite_driver.py covers this module.

Inside `statements_on_loop()` (the Twilio webhooks: short, indexed statements) a statement
skips even that trip and runs right on the event loop, without waiting for a lock: should
another process hold SQLite's write lock, the statement goes to the database thread after
all, which waits for the lock (SQLITE_BUSY_SECONDS) while the event loop serves others.
Not waiting is SQLite's busy timeout at 0: set by the first statement on the loop and left
so while the connection keeps running on the loop; the next job for the database thread (a
statement, commit, rollback or server-side cursor) sets it back first.
Inside the block the commit runs on the event loop too (a trip to the thread cost ~70 µs of
CPU, a tenth of a webhook): a transaction that wrote holds the write lock already, so its
commit never waits for one. Now and then a commit checkpoints the write-ahead log (every
1,000 pages, a few milliseconds); the one pooled connection is busy meanwhile wherever the
commit runs, so the webhooks waiting for it wait the same. Rollbacks, and commits outside
the block, go to the thread.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

_Outcome = tuple[Any, int, int | None, list[Any]]

# Wait at most this long for another process's write lock: less than a voice webhook's
# deadline, so a caller hears the apology before Twilio gives up.
SQLITE_BUSY_SECONDS = 5.0
_BUSY_MS = int(SQLITE_BUSY_SECONDS * 1000)
_ON_LOOP: ContextVar[bool] = ContextVar("sqlite_statements_on_loop", default=False)


@contextmanager
def statements_on_loop() -> Iterator[None]:
    """Within the block, this task's SQLite statements run on the event loop (see above)."""
    token = _ON_LOOP.set(True)
    try:
        yield
    finally:
        _ON_LOOP.reset(token)


def _run(conn: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """In the database thread: execute, read every row, close the cursor."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def _wait_for_locks(conn: sqlite3.Connection) -> None:
    """In the database thread: set the busy timeout back (see `_here`)."""
    conn.execute(f"PRAGMA busy_timeout={_BUSY_MS}")


def _run_waiting(conn: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """In the database thread: `_run`, after setting the busy timeout back (see `_here`)."""
    _wait_for_locks(conn)
    return _run(conn, operation, parameters, many)


def _run_unless_locked(
    conn: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> _Outcome | None:
    """On the event loop (busy timeout 0): `_run`, but None at once where it would wait
    for a lock."""
    try:
        return _run(conn, operation, parameters, many)
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY:
            return None  # nothing was done: the statement waits in the database thread
        raise


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A DBAPI cursor whose execute runs, fetches and closes in one database-thread job."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No sqlite3 cursor is made here (that was a trip of its own): _run makes one.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        """Nothing to close: the sqlite3 cursor was closed in the database thread."""

    def close(self) -> None:
        self._rows.clear()

    def _here(self, operation: Any, parameters: Any, many: bool) -> bool:
        """Run the statement on the event loop if asked to and no lock is in the way."""
        adapt: OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        outcome = adapt.run_here(operation, parameters, many)
        if outcome is None:
            return False
        self._description, self._rowcount, self._lastrowid, rows = outcome
        self._rows = deque(rows)
        return True

    async def _trip(self, operation: Any, parameters: Any, many: bool, here: bool = True) -> None:
        if here and self._here(operation, parameters, many):
            return
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        adapt: OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        async with adapt._execute_mutex:
            job = _run_waiting if adapt.no_wait else _run
            adapt.no_wait = False
            outcome: _Outcome = await connection._execute(  # type: ignore[no-untyped-call]
                job, connection._conn, operation, parameters, many
            )
        self._description, self._rowcount, self._lastrowid, rows = outcome
        self._rows = deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._trip(operation, parameters, False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> None:
        await self._trip(operation, seq_of_parameters, True)

    def nextset(self) -> None:
        self._rows.clear()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """aiosqlite's adapted connection, with `OneTripCursor` for ordinary cursors.

    Commit and rollback make no trip when SQLite has no transaction open (a read-only
    one, or the pool's rollback when a committed connection comes back): they are no-ops;
    inside `statements_on_loop()` a commit runs on the event loop.
    """

    __slots__ = ("no_wait",)
    _cursor_cls = OneTripCursor  # type: ignore[assignment]

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.no_wait = False  # the busy timeout is 0 (set by statements on the loop)

    def run_here(self, operation: Any, parameters: Any, many: bool) -> _Outcome | None:
        """The statement run on the event loop, if asked to (`statements_on_loop`) and no
        lock is in the way; None if it is to go to the database thread instead."""
        if not _ON_LOOP.get() or self._execute_mutex.locked():
            return None
        conn: sqlite3.Connection = self._connection._conn
        if not self.no_wait:
            # Set once and left so while the connection only runs on the event loop (two
            # PRAGMAs around every statement cost ~8% of a webhook's CPU): whatever runs
            # next in the database thread sets the timeout back first.
            conn.execute("PRAGMA busy_timeout=0")
            self.no_wait = True
        return _run_unless_locked(conn, operation, parameters, many)

    def wait_for_locks(self) -> None:
        """Set the busy timeout back before work in the database thread, if it was 0."""
        if self.no_wait:
            self.no_wait = False
            conn: sqlite3.Connection | None = self._connection._connection
            if conn is not None:
                await_(self._connection._execute(_wait_for_locks, conn))

    def cursor(self, server_side: bool = False) -> Any:
        if server_side:  # SQLAlchemy's own cursor, whose statements run in the thread
            self.wait_for_locks()
        return super().cursor(server_side)

    def _open(self) -> bool:
        conn: sqlite3.Connection | None = self._connection._connection
        return conn is None or conn.in_transaction  # closed: let aiosqlite say so

    def commits_on_loop(self) -> bool:
        """Whether `commit()` would run right here on the event loop, awaiting nothing."""
        return (
            _ON_LOOP.get()
            and self._connection._connection is not None
            and not self._execute_mutex.locked()
        )

    def commit(self) -> None:
        if not self._open():
            return
        if self.commits_on_loop():
            self._connection._connection.commit()  # on the event loop (see above)
            return
        self.wait_for_locks()
        super().commit()

    def rollback(self) -> None:
        if self._open():
            self.wait_for_locks()
            super().rollback()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The aiosqlite DBAPI module SQLAlchemy adapts, handing out `OneTripConnection`s."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy does: never block interpreter exit
        return OneTripConnection(self, await_(connection))


def one_trip_dbapi() -> OneTripDBAPI:
    """The module to pass as `create_async_engine(..., module=...)` for SQLite."""
    return OneTripDBAPI(aiosqlite, sqlite3)
