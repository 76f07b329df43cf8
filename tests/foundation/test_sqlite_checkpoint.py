"""SQLite's log is checkpointed by a thread of its own, off the event loop (sqlite_checkpoint)."""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from app.config import Settings
from app.core import sqlite_checkpoint
from app.core.clock import FixedClock
from app.core.db import create_engine
from app.core.sqlite_checkpoint import (
    RESTART_FRAMES,
    WRITER_CHECKPOINT_FRAMES,
    Round,
    WalCheckpointer,
    database_file,
)
from app.main import create_app

THREAD = "sqlite-wal-checkpoint"


def _writer(path: Path) -> sqlite3.Connection:
    """A connection that never checkpoints by itself, as if the writer's own checkpoint
    never came due: whatever reaches the database file was put there by the thread."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, blob BLOB)")
    return conn


def _write(conn: sqlite3.Connection, rows: int, transactions: int) -> None:
    for _ in range(transactions):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO t (blob) VALUES (?)", [(b"x" * 2000,)] * rows)
        conn.execute("COMMIT")


def _log_frames(conn: sqlite3.Connection) -> int:
    """Pages in the log now (a passive checkpoint reports it and changes nothing else)."""
    return int(conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])


def _wait_for(done: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError("the checkpoint thread did not get there in time")
        time.sleep(0.01)


def test_only_a_sqlite_file_gets_a_checkpointer(tmp_path: Path) -> None:
    assert database_file(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}") == str(tmp_path / "a.db")
    assert database_file("sqlite+aiosqlite:///relative.db") == "relative.db"
    assert database_file("sqlite+aiosqlite://") is None
    assert database_file("sqlite+aiosqlite:///:memory:") is None
    assert database_file("postgresql+asyncpg://postgres@127.0.0.1:5432/test") is None
    assert WalCheckpointer.start_for("postgresql+asyncpg://postgres@127.0.0.1/test") is None


def _restarted(checkpointer: WalCheckpointer) -> bool:
    """Whether a round of the thread copied a long log whole and restarted it (a later
    round may have come since, the log short by then)."""
    last = checkpointer.last_restart  # one read: the thread replaces it
    return (
        last is not None
        and not last.busy
        and last.log_frames >= RESTART_FRAMES
        and last.checkpointed_frames == last.log_frames
    )


def _all_copied(checkpointer: WalCheckpointer) -> bool:
    """Whether the thread's last round copied every page the log held."""
    last = checkpointer.last
    return last is not None and not last.busy and last.checkpointed_frames == last.log_frames


def test_the_thread_copies_the_log_into_the_file_and_restarts_it(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    writer = _writer(path)
    checkpointer = WalCheckpointer.start_for(f"sqlite+aiosqlite:///{path}", interval=0.01)
    assert checkpointer is not None
    try:
        # ~1,500 pages of 4 KB: past RESTART_FRAMES, so the thread restarts the log too.
        _write(writer, rows=100, transactions=30)
        _wait_for(lambda: _restarted(checkpointer))
        # The restart may have come before the last transactions: a round begun after them
        # copies what the log still holds.
        after = checkpointer.rounds
        _wait_for(lambda: checkpointer.rounds >= after + 2 and _all_copied(checkpointer))
    finally:
        checkpointer.stop()
    assert not checkpointer._thread.is_alive()
    rounds = checkpointer.rounds
    time.sleep(0.05)
    assert checkpointer.rounds == rounds  # stopped means stopped
    try:
        # The database file alone (no log beside it) holds every row.
        alone = tmp_path / "alone.db"
        shutil.copyfile(path, alone)
        copy = sqlite3.connect(alone)
        assert copy.execute("SELECT count(*) FROM t").fetchone() == (3000,)
        copy.close()
        # The next write starts the log from its beginning instead of growing it.
        _write(writer, rows=1, transactions=1)
        assert _log_frames(writer) < 20
    finally:
        writer.close()


def test_an_idle_log_is_not_restarted_again_and_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "idle.db"
    writer = _writer(path)
    _write(writer, rows=100, transactions=30)
    modes: list[str] = []
    checkpoint = sqlite_checkpoint._checkpoint

    def recording(conn: sqlite3.Connection, mode: str) -> Round:
        modes.append(mode)
        return checkpoint(conn, mode)

    monkeypatch.setattr(sqlite_checkpoint, "_checkpoint", recording)
    checkpointer = WalCheckpointer(str(path))
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for _ in range(4):
            checkpointer.checkpoint(conn)
        # Only the first round restarts: nothing was written after it.
        assert modes == ["PASSIVE", "RESTART", "PASSIVE", "PASSIVE", "PASSIVE"]
        _write(writer, rows=100, transactions=30)
        checkpointer.checkpoint(conn)
        assert modes[-2:] == ["PASSIVE", "RESTART"]  # written to again: restarted again
    finally:
        conn.close()
        writer.close()


def test_without_the_thread_the_same_writes_leave_the_log_long(tmp_path: Path) -> None:
    # The counter-test of the one above: the same writer, nobody checkpointing.
    path = tmp_path / "long.db"
    writer = _writer(path)
    _write(writer, rows=100, transactions=30)
    _write(writer, rows=1, transactions=1)
    assert _log_frames(writer) >= RESTART_FRAMES
    writer.close()


def test_a_failing_checkpoint_is_said_once_and_the_thread_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "not-a-database.db"
    path.write_bytes(b"this is not a SQLite file, whatever its name says" * 100)

    def failures() -> int:
        return sum("checkpoint of" in r.getMessage() for r in caplog.records)

    with caplog.at_level(logging.WARNING, logger="switchboard.db"):
        checkpointer = WalCheckpointer.start_for(f"sqlite+aiosqlite:///{path}", interval=0.01)
        assert checkpointer is not None
        _wait_for(lambda: failures() >= 1)
        time.sleep(0.1)  # ten more rounds, failing alike
        assert checkpointer._thread.is_alive()
        checkpointer.stop()
    assert failures() == 1
    assert not checkpointer._thread.is_alive()


async def test_the_apps_connections_checkpoint_themselves_only_late(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'engine.db'}")
    try:
        async with engine.connect() as conn:
            frames = (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar()
        assert frames == WRITER_CHECKPOINT_FRAMES
    finally:
        await engine.dispose()


async def test_the_app_runs_the_thread_on_sqlite_only_while_it_runs(
    settings: Settings, clock: FixedClock, database_url: str
) -> None:
    def running() -> bool:
        return any(t.name == THREAD for t in threading.enumerate())

    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        assert running() == database_url.startswith("sqlite")
    assert not running()
