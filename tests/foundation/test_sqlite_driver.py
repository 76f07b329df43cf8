"""The SQLite engine's one-trip cursor behaves as a DBAPI cursor (app.core.sqlite_driver)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.db import create_engine
from app.core.sqlite_driver import OneTripCursor, statements_on_loop


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


async def test_statements_use_the_one_trip_cursor(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.dbapi_connection.cursor(), OneTripCursor)  # type: ignore[union-attr]


async def test_rows_rowcount_lastrowid_and_executemany(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        inserted = await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert inserted.lastrowid == 1
        await conn.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "b"}, {"n": "c"}])
        updated = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
        assert updated.rowcount == 2
        returned = await conn.execute(text("UPDATE t SET name = 'z' WHERE id = 3 RETURNING id"))
        assert returned.scalars().all() == [3]
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
        assert [tuple(r) for r in rows] == [(1, "a"), (2, "b!"), (3, "z")]
        first = await conn.execute(text("SELECT name FROM t ORDER BY id"))
        assert first.fetchone() == ("a",)
        assert first.fetchmany(5) == [("b!",), ("z",)]
        assert first.fetchone() is None
        empty = await conn.execute(text("SELECT name FROM t WHERE id > 99"))
        assert empty.all() == []


async def test_errors_are_sqlalchemys_and_roll_back(engine: AsyncEngine) -> None:
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('dup')"))
            await conn.execute(text("INSERT INTO t (name) VALUES ('dup')"))
    with pytest.raises(OperationalError):
        async with engine.connect() as conn:
            await conn.execute(text("SELECT nothing FROM nowhere"))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0


async def test_streaming_still_reads_every_row(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO t (name) VALUES (:n)"), [{"n": str(i)} for i in range(50)]
        )
    async with engine.connect() as conn:
        streamed = await conn.stream(text("SELECT id FROM t ORDER BY id"))
        seen = [row[0] async for row in streamed]
    assert seen == list(range(1, 51))


def _count_trips(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """From now on, one entry per job sent to aiosqlite's database thread."""
    trips: list[object] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(fn)
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return trips


async def test_statements_on_loop_make_no_trip_to_the_database_thread(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("SELECT 1"))  # the connection is made and the pool warm
        trips = _count_trips(monkeypatch)
        with statements_on_loop():
            await conn.execute(text("INSERT INTO t (name) VALUES ('loop')"))
            found = (await conn.execute(text("SELECT name FROM t"))).scalars().all()
        assert (len(trips), found) == (0, ["loop"])
        await conn.execute(text("SELECT 1"))
        assert len(trips) == 1  # outside the block: one trip per statement
    assert len(trips) == 2  # the commit (and no rollback when the pool takes the connection back)


async def test_a_commit_inside_the_block_makes_no_trip_and_commits(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # the connection is made and the pool warm
    trips = _count_trips(monkeypatch)
    with statements_on_loop():
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('committed')"))
    assert len(trips) == 0
    monkeypatch.undo()
    # Committed for everyone: another connection (as another process would) reads it.
    fresh = sqlite3.connect(engine.url.database or "")
    try:
        assert fresh.execute("SELECT name FROM t").fetchall() == [("committed",)]
    finally:
        fresh.close()


async def test_a_write_lock_held_elsewhere_is_waited_for_off_the_loop(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "driver.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's writer holds the lock
    other.execute("INSERT INTO t (name) VALUES ('other')")
    ticks = 0

    async def ticking() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def write() -> list[str]:
        async with engine.begin() as conn:
            with statements_on_loop():
                await conn.execute(text("INSERT INTO t (name) VALUES ('mine')"))
                return list((await conn.execute(text("SELECT name FROM t"))).scalars())

    ticker = asyncio.create_task(ticking())
    writing = asyncio.create_task(write())
    await asyncio.sleep(0.2)
    assert ticks >= 5  # the event loop ran while the write waited for the lock
    assert not writing.done()
    other.execute("COMMIT")
    other.close()
    assert sorted(await asyncio.wait_for(writing, 30)) == ["mine", "other"]
    ticker.cancel()


async def test_after_statements_on_the_loop_a_statement_off_it_waits_for_a_lock_again(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """The loop's statements leave the busy timeout at 0; the next statement in the
    database thread sets it back, so it waits for another process's lock, not fails."""
    with statements_on_loop():
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('loop')"))
    other = sqlite3.connect(tmp_path / "driver.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t (name) VALUES ('other')")

    async def write() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('thread')"))

    writing = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    assert not writing.done()  # waiting for the lock, not failed with "database is locked"
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(writing, 30)
    async with engine.connect() as conn:
        names = sorted((await conn.execute(text("SELECT name FROM t"))).scalars())
    assert names == ["loop", "other", "thread"]


async def test_the_busy_timeout_is_set_once_for_statements_on_the_loop_and_back_for_the_thread(
    engine: AsyncEngine,
) -> None:
    """Statements on the loop turn the busy timeout off once, not around each statement;
    the first job for the database thread afterwards (a statement or a rollback) turns it
    back on before it runs."""
    traced: list[str] = []
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        sqlite_conn: sqlite3.Connection = raw.dbapi_connection._connection._conn  # type: ignore[union-attr]
        sqlite_conn.set_trace_callback(traced.append)
    try:
        with statements_on_loop():
            for name in ("a", "b"):
                async with engine.begin() as conn:
                    await conn.execute(text("INSERT INTO t (name) VALUES (:n)"), {"n": name})
                    await conn.execute(text("SELECT name FROM t"))
        pragmas = [s for s in traced if "busy_timeout" in s]
        assert pragmas == ["PRAGMA busy_timeout=0"]
        async with engine.begin() as conn:  # in the database thread
            await conn.execute(text("INSERT INTO t (name) VALUES ('thread')"))
        timeouts = [s for s in traced if "busy_timeout" in s or "'thread'" in s]
        assert timeouts[-2:] == [
            "PRAGMA busy_timeout=5000",
            "INSERT INTO t (name) VALUES ('thread')",
        ]
        with statements_on_loop():
            async with engine.connect() as conn:
                await conn.execute(text("INSERT INTO t (name) VALUES ('undone')"))
                await conn.rollback()  # a rollback goes to the thread: the timeout is back
        assert [s for s in traced if "busy_timeout" in s][-2:] == [
            "PRAGMA busy_timeout=0",
            "PRAGMA busy_timeout=5000",
        ]
    finally:
        sqlite_conn.set_trace_callback(None)
    async with engine.connect() as conn:
        names = sorted((await conn.execute(text("SELECT name FROM t"))).scalars())
    assert names == ["a", "b", "thread"]
