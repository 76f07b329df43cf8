"""Checkpoint SQLite's write-ahead log in a thread of its own, off the event loop.

In WAL mode a commit appends the pages it changed to the log, and SQLite copies them back
into the database file (a checkpoint, with an fsync of the log and one of the file) in
whichever connection commits once the log holds `wal_autocheckpoint` pages (1,000 by
default). Switchboard commits a webhook's transaction on the event loop (`sqlite_driver`),
so that copy stalled every request in flight: ~20 ms about every 120 commits, two thirds
of all the time a webhook's commit took.

`WalCheckpointer` checkpoints on a connection of its own every `interval` seconds: first
passively (it neither waits for nor blocks the writer or any reader, and `sqlite3` lets go
of the GIL while SQLite copies), then, once the log holds `RESTART_FRAMES` pages, with
`RESTART`, which waits for the writer's transaction to end, copies the few pages left and
lets the next writer start the log again from its beginning (a passive checkpoint beside a
busy writer never can, so the log would grow). A webhook that meets the restart's lock
waits for it in the database thread, not on the event loop. The writer's own automatic
checkpoint stays on as the safety net, at `WRITER_CHECKPOINT_FRAMES` (set on every
connection by `app.core.db`), for processes without this thread and for a thread that
cannot keep up.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass

from sqlalchemy.engine import make_url

logger = logging.getLogger("switchboard.db")

INTERVAL_SECONDS = 0.25
"""How often the thread checkpoints; on an idle database a round only reads the log's header.

Every round copies each page written since the last one, however often it was written: a
round every 50 ms cost the thread 4% of the server's CPU at 700 webhooks/s, every 250 ms
2% (bench/RESULTS.md, fourteenth round), while the log stayed under 2,800 pages at the
highest rate measured (~1,200 webhooks/s in process), short of `WRITER_CHECKPOINT_FRAMES`."""
RESTART_FRAMES = 1000
"""Log pages from which a round also restarts the log: where SQLite itself would checkpoint."""
WRITER_CHECKPOINT_FRAMES = 4000
"""`wal_autocheckpoint` of every connection: the writer checkpoints itself only past this."""
BUSY_SECONDS = 0.05
"""How long a restarting checkpoint waits for the writer before it settles for a passive one."""


@dataclass(frozen=True, slots=True)
class Round:
    """What one checkpoint reported: SQLite's (busy, log, checkpointed) triple."""

    busy: bool
    log_frames: int
    checkpointed_frames: int


def database_file(database_url: str) -> str | None:
    """The file of a SQLite URL; None for any other database and for an in-memory one."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    path = url.database or ""
    if not path or path == ":memory:" or path.startswith("file::memory:"):
        return None
    return path


class WalCheckpointer:
    """A daemon thread checkpointing one SQLite file's log until `stop()`."""

    def __init__(self, path: str, *, interval: float = INTERVAL_SECONDS) -> None:
        self.path = path
        self.interval = interval
        self.rounds = 0
        self.last: Round | None = None
        self.last_restart: Round | None = None  # the latest round that restarted the log
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-wal-checkpoint", daemon=True)

    @classmethod
    def start_for(
        cls, database_url: str, *, interval: float = INTERVAL_SECONDS
    ) -> WalCheckpointer | None:
        """A running checkpointer for a SQLite file's URL; None for anything else."""
        path = database_file(database_url)
        if path is None:
            return None
        checkpointer = cls(path, interval=interval)
        checkpointer._thread.start()
        return checkpointer

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread (after the round it may be in) and close its connection."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def checkpoint(self, conn: sqlite3.Connection) -> Round:
        """One round on `conn`: a passive checkpoint, then a restarting one if the log is long."""
        done = _checkpoint(conn, "PASSIVE")
        # Not again for a log nobody wrote to since the last round (an idle database).
        if done.log_frames >= RESTART_FRAMES and done != self.last:
            done = _checkpoint(conn, "RESTART")
            self.last_restart = done
        self.rounds += 1
        self.last = done
        return done

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
        except sqlite3.Error as exc:
            logger.warning("could not open %s to checkpoint its log: %s", self.path, exc)
            return
        failed = False
        try:
            while not self._stop.wait(self.interval):
                try:
                    self.checkpoint(conn)
                    failed = False
                except sqlite3.Error as exc:
                    # Not in WAL mode yet, the file replaced, a disk error: the writer's own
                    # checkpoint still runs, so say it once and try again next time.
                    if not failed:
                        logger.warning("checkpoint of %s failed: %s", self.path, exc)
                    failed = True
        finally:
            conn.close()


def _checkpoint(conn: sqlite3.Connection, mode: str) -> Round:
    row = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
    return Round(bool(row[0]), int(row[1]), int(row[2]))
