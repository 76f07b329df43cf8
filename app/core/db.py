"""Database engine and sessions: async SQLAlchemy on SQLite (aiosqlite) or PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from greenlet import getcurrent  # type: ignore[import-untyped]
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool, PoolProxiedConnection
from sqlalchemy.util.concurrency import await_, greenlet_spawn

from app.core.driver_sql import (
    NeedsTransaction,
    forget_own_connection,
    remember_own_connection,
    rerun_safe_alone,
    runs_alone,
    statements_alone,
    wrote_alone,
)
from app.core.sqlite_checkpoint import WRITER_CHECKPOINT_FRAMES
from app.core.sqlite_driver import SQLITE_BUSY_SECONDS, OneTripConnection, one_trip_dbapi

# PostgreSQL connections an instance keeps open (DB_POOL_SIZE's default); a burst opens as many
# again, each closed after one use (a new PostgreSQL server process per transaction past it).
POOL_SIZE = 20

# What every PostgreSQL connection of the app asks of the planner, sent with the connection's
# start-up (no round trip). The app finds its rows by key, and PostgreSQL keeps a prepared
# statement's plan for the connection's life: a plan made while a table was small (a new
# database, or statistics left behind by a stopped or lagging autovacuum) read the whole
# table on every run as it grew. The language digit's write took 0.28 ms of the database's
# time at the start of a run and 1.5 ms 4,000 calls later, reading `call_states` row by row
# (bench/RESULTS.md, twenty-first round). `enable_seqscan = off` makes the planner take an
# index wherever one answers; a table no index serves is still read whole. `jit = off`: a
# plan that must still read a table carries the disabled scan's cost (10^10), far above
# `jit_above_cost`, and would be compiled on every run (milliseconds, for statements that
# take microseconds).
PLANNER_SETTINGS = {"enable_seqscan": "off", "jit": "off"}


def create_engine(database_url: str, *, pool_size: int = POOL_SIZE) -> AsyncEngine:
    """An async engine with the pragmas and pool settings Switchboard relies on."""
    # hide_parameters: errors never carry bound values (tokens, names, transcriptions) into
    # the logs; the statement alone says what failed.
    kwargs: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}
    if database_url.startswith("sqlite"):
        # SQLite has one writer at a time, and a connection waiting for the write lock polls
        # with sleeps, so concurrent transactions in one process starve each other (seconds
        # of tail latency). One pooled connection per process queues them fairly in asyncio
        # instead; other processes still share the file through WAL and the busy timeout.
        # Wait at most SQLITE_BUSY_SECONDS for another process's write lock: less than a
        # voice webhook's deadline, so a caller hears the apology before Twilio gives up.
        # check_same_thread: statements of a webhook may run on the event loop (sqlite_driver).
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False}
        kwargs["pool_size"] = 1
        kwargs["max_overflow"] = 0
        kwargs["pool_timeout"] = 30
        kwargs["pool_pre_ping"] = False
        kwargs["module"] = one_trip_dbapi()  # one thread hop per statement, not four
    else:
        kwargs["pool_size"] = pool_size
        kwargs["max_overflow"] = pool_size
        if "+asyncpg" in database_url.split("://", 1)[0]:
            kwargs["pool_pre_ping"] = False  # _ping_on_checkout does it in one round trip
            kwargs["connect_args"] = {"server_settings": dict(PLANNER_SETTINGS)}
    engine = create_async_engine(database_url, **kwargs)
    if database_url.startswith("sqlite"):
        _configure_sqlite(engine)
    elif not kwargs["pool_pre_ping"]:
        _ping_on_checkout(engine)
    return engine


class _BegunByPing:
    """The transaction the checkout ping began, as SQLAlchemy's asyncpg adapter keeps one
    (`_transaction`: what its commit and rollback end)."""

    __slots__ = ("_driver",)

    def __init__(self, driver: Any) -> None:
        self._driver = driver

    async def commit(self) -> None:
        await self._driver.execute("COMMIT")

    async def rollback(self) -> None:
        await self._driver.execute("ROLLBACK")


def _ping_on_checkout(engine: AsyncEngine) -> None:
    """asyncpg: every connection taken from the pool is tried first, as `pool_pre_ping`
    does, in one round trip where SQLAlchemy's ping takes three (BEGIN, the ping,
    ROLLBACK: made for pgbouncer's transaction mode, which Switchboard does not use).

    The ping is the transaction's own BEGIN, which the adapter would otherwise send as a
    round trip of its own before the first statement: a connection is checked out to run
    statements in a transaction (SQLAlchemy's 2.0 style has no other kind), so each
    checkout saves a round trip. A connection asked for another isolation level, read-only
    or deferrable, gets the plain ping and begins as the adapter does. One checked out and
    given back unused costs a ROLLBACK as well.

    A connection that fails the ping (the server restarted, the network dropped it) is
    thrown away and the pool connects afresh, so no webhook fails on a stale connection.
    """

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        if getattr(getcurrent(), _UNPINGED, False):
            return  # the first statement is the ping, or the BEGIN is sent on the loop
        driver = dbapi_conn.driver_connection
        plain = _plain(dbapi_conn)
        begin = _BEGIN_GENERIC if getattr(getcurrent(), _GENERIC, False) else "BEGIN"
        try:
            await_(driver.execute(begin if plain else "SELECT 1"))  # simple protocol
        except Exception as exc:
            raise DisconnectionError(f"a pooled connection failed its ping: {exc!r}") from exc
        if plain:
            dbapi_conn._transaction = _BegunByPing(driver)

    _PINGS.add(_ping)


_PINGS: set[Callable[..., None]] = set()  # the checkout listeners `_Lease.ready` knows


def _plain(dbapi_conn: Any) -> bool:
    """Whether an asyncpg connection begins a transaction with a plain BEGIN (no isolation
    level, read-only or deferrable asked for) and is in none now."""
    return (
        dbapi_conn.isolation_level is None
        and not dbapi_conn.readonly
        and not dbapi_conn.deferrable
        and dbapi_conn._transaction is None
        and not dbapi_conn.driver_connection.is_in_transaction()
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
        # The app's checkpoint thread keeps the log short (app.core.sqlite_checkpoint); a
        # connection checkpoints itself, on the event loop, only past this.
        cursor.execute(f"PRAGMA wal_autocheckpoint={WRITER_CHECKPOINT_FRAMES}")
        cursor.close()


async def end_transaction(session: AsyncSession) -> None:
    """Commit what the session did so far and hand its connection back to the pool.

    For a request about to do CPU work on what it read (a schedule, a ledger): a webhook
    waiting for a connection (SQLite has one) must not wait for that work as well.
    """
    await session.commit()


AFTER_COMMIT = "switchboard.after_commit"
AfterCommit = Callable[["Database"], Awaitable[None]]


def after_commit(session: AsyncSession, work: AfterCommit) -> None:
    """Run `work(db)` once the session's transaction has committed (not on a rollback).

    Run by `Database.transaction` and by the request's session (`app.core.deps`) after
    they commit, before the block or the request ends; with nothing held by the session.
    """
    session.info.setdefault(AFTER_COMMIT, []).append(work)


async def run_after_commit(session: AsyncSession, db: Database) -> None:
    """The work registered with `after_commit`, in order (the session has committed)."""
    while pending := session.info.pop(AFTER_COMMIT, None):
        for work in pending:
            await work(db)


def drop_after_commit(session: AsyncSession) -> None:
    """Forget the registered work (the transaction rolled back)."""
    session.info.pop(AFTER_COMMIT, None)


@event.listens_for(Session, "after_rollback")
def _forget_after_commit(session: Session) -> None:
    session.info.pop(AFTER_COMMIT, None)


async def _close(session: AsyncSession) -> None:
    """Close a session whose transaction has ended.

    Its connection went back to the pool when the transaction committed or rolled back, so
    closing is bookkeeping with nothing to wait for: done in place, not in the task of its
    own that `AsyncSession.__aexit__` starts to shield a close doing I/O from cancellation
    (a task and two turns of the event loop, a fifth of a webhook's transaction cost).
    """
    sync = session.sync_session
    if sync.in_transaction():
        await session.close()  # still holding a connection: the shielded, awaited close
    else:
        sync.close()


def dialect_of(session: AsyncSession) -> str:
    """The session's database: "sqlite" or "postgresql".

    Read off the engine the session is bound to: `get_bind()` would do too, but in a
    webhook's transaction it makes the Core connection the ORM runs on (`Database.
    webhook_transaction`), ~70 µs to make and close for a name.
    """
    bind = session.sync_session.bind  # plain attributes, not AsyncSession's properties
    return (bind if bind is not None else session.get_bind()).dialect.name


_LEASE = "switchboard.lease"
_UNPINGED = "switchboard_unpinged"
_GENERIC = "switchboard_generic_plans"
# A webhook's transaction plans its prepared statements once (`webhook_transaction`): the
# ping begins it and sets that, in one round trip (simple protocol, two statements).
_BEGIN_GENERIC = "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan"


class _Lease:
    """The pooled connection a `webhook_transaction` took, and the Core connection the ORM
    runs on over it, made only when the ORM needs one."""

    __slots__ = ("core", "engine", "fairy")

    def __init__(self, engine: Engine, fairy: PoolProxiedConnection) -> None:
        self.engine = engine
        self.fairy = fairy
        self.core: Connection | None = None

    @staticmethod
    def ready(pool: Pool, *, unpinged: bool = False) -> bool:
        """Whether a checkout from `pool` would await nothing, so `take` may run outside
        the greenlet: the pool holds an idle connection that needs no reconnecting, and no
        checkout listener or pre-ping runs. (The same conditions under which SQLAlchemy's
        pool takes it without awaiting; read off its internals, pinned in pyproject.toml
        and covered by tests/foundation/test_webhook_transaction.py.)

        `unpinged` (PostgreSQL, `take_here`): the ping on checkout may be there, as it
        does nothing for a checkout marked unpinged; the idle connection must be plain."""
        idle = getattr(getattr(pool, "_pool", None), "_queue", None)
        if not isinstance(idle, asyncio.Queue) or idle.empty() or pool._pre_ping:
            return False
        listeners = pool.dispatch.checkout
        if listeners and not (unpinged and all(fn in _PINGS for fn in listeners)):
            return False
        record: Any = idle._queue[0]  # type: ignore[attr-defined]  # what get_nowait takes
        if unpinged and not (
            record.dbapi_connection is not None and _plain(record.dbapi_connection)
        ):
            return False
        return (
            record.dbapi_connection is not None
            and pool._recycle < 0
            and pool._invalidate_time <= record.starttime
            and record._soft_invalidate_time <= record.starttime
        )

    @classmethod
    def take(cls, engine: Engine, ping: bool = True, generic: bool = False) -> _Lease:
        """In the greenlet: a connection from the pool (its checkout ping included); a
        failure raised as SQLAlchemy's error, as `engine.connect()` raises it.

        `ping=False` (PostgreSQL, statements run alone): no ping and no BEGIN; the first
        statement finds out whether the connection is alive, and the work fails over to a
        transaction (which pings) if it is not (`Database.webhook_transaction`).
        `generic=True` (PostgreSQL): the transaction the ping begins runs its prepared
        statements on generic plans (`_BEGIN_GENERIC`).
        """
        # Read by the checkout listener, which runs in this greenlet; a plain take (SQLite's,
        # on the event loop) sets nothing.
        here = getcurrent() if not ping or generic else None
        if here is not None:
            setattr(here, _UNPINGED, not ping)
            setattr(here, _GENERIC, generic)
        try:
            return cls(engine, engine.pool.connect())
        except engine.dialect.loaded_dbapi.Error as error:
            Connection._handle_dbapi_exception_noconnection(error, engine.dialect, engine)
            raise
        finally:
            if here is not None:
                setattr(here, _UNPINGED, False)
                setattr(here, _GENERIC, False)

    @classmethod
    async def take_here(cls, engine: Engine, *, begin: bool) -> _Lease | None:
        """PostgreSQL, on the event loop, when `ready(pool, unpinged=True)`: `take` without
        the greenlet's trip. The checkout is marked unpinged; with `begin`, the BEGIN the
        ping would have sent is sent here (`_BEGIN_GENERIC`, one round trip as before).
        None when that BEGIN fails: the connection is thrown away (in the greenlet, as
        closing it awaits) and the caller takes one with `take`, whose ping reconnects."""
        here = getcurrent()
        setattr(here, _UNPINGED, True)
        try:
            lease = cls(engine, engine.pool.connect())
        finally:
            setattr(here, _UNPINGED, False)
        if not begin:
            return lease
        adapted: Any = lease.fairy.dbapi_connection
        driver = adapted.driver_connection
        try:
            await driver.execute(_BEGIN_GENERIC)  # simple protocol
        except BaseException as error:
            # Dead, or cancelled mid-BEGIN (a deadline): in no state to be used again.
            await greenlet_spawn(lease.fairy.invalidate)
            if isinstance(error, Exception):
                return None
            raise
        adapted._transaction = _BegunByPing(driver)
        return lease

    def connection(self) -> Connection:
        """The Core connection over the leased one, for the session's ORM work."""
        if self.core is None:
            self.core = Connection(self.engine, connection=self.fairy)
        return self.core

    def end(self, session: Session, commit: bool) -> None:
        """In the greenlet: commit (the ORM's pending work first) or roll back, then give
        the connection back to the pool, whatever happened."""
        try:
            if commit:
                try:
                    if session.in_transaction():  # `add` begins one too
                        session.commit()  # the ORM's work (flushed first), over `connection()`
                    self._driver().commit()  # the driver statements
                except BaseException:
                    self._roll_back(session)
                    raise
            else:
                self._roll_back(session)
        finally:
            self._give_back(session)

    def end_here(self, session: Session) -> bool:
        """SQLite, on the event loop: `end(session, True)` without the trip through the
        greenlet, when nothing in it would wait: no ORM work, and a commit that runs on the
        loop (`OneTripConnection.commits_on_loop`); the pool's reset after a commit is a
        no-op and the check-in a `put_nowait`. False, with nothing done, otherwise. A commit
        that fails leaves the connection leased: the caller rolls back with `end`."""
        driver = self._driver()
        if (
            self.core is not None
            or session.in_transaction()
            or not isinstance(driver, OneTripConnection)
            or not driver.commits_on_loop()
        ):
            return False
        driver.commit()
        self._give_back(session)
        return True

    async def commit_here(self, session: Session) -> bool:
        """PostgreSQL, on the event loop: `end(session, True)` without the greenlet's trip,
        when the ORM did no work: the driver's COMMIT (none for statements run alone), then
        the connection back to the pool, whose reset finds no transaction to roll back.
        False, with nothing done, otherwise. A failed commit raises as the adapter's
        `commit()` raises, the connection still leased: the caller rolls back with `end`."""
        if self.core is not None or session.in_transaction():
            return False
        adapted: Any = self._driver()
        transaction = adapted._transaction
        if transaction is not None:
            try:
                await transaction.commit()
            except Exception as error:
                # Kept as the adapter's transaction: `end` rolls it back (a ROLLBACK where
                # the COMMIT was never sent; a warning, no error, where the server ended it).
                adapted._handle_exception(error)  # raises it as the adapter's error
            adapted._transaction = None
        if self._pool_full():
            # An overflow connection, which the pool closes rather than keep: closing awaits
            # the driver, so it goes back through the greenlet.
            await greenlet_spawn(self._give_back, session)
        else:
            self._give_back(session)
        return True

    def _pool_full(self) -> bool:
        """Whether the pool holds as many idle connections as it keeps (or cannot say): one
        given back now is closed."""
        pool: Any = getattr(self.fairy, "_pool", None)
        idle: Any = getattr(pool, "_pool", None)
        return idle is None or bool(idle.full())

    def alive(self) -> bool:
        """False once the driver's connection is closed (the server went away)."""
        adapted: Any = self.fairy.dbapi_connection
        return adapted is not None and not adapted.driver_connection.is_closed()

    def drop(self, session: Session) -> None:
        """In the greenlet: throw the connection away (the pool connects afresh) and end
        the lease, with nothing to roll back (statements run alone)."""
        try:
            self.fairy.invalidate()
        finally:
            self._give_back(session)

    def _give_back(self, session: Session) -> None:
        if not untouched(session):
            session.close()  # its objects stay usable (expire_on_commit=False)
        session.info.pop(_LEASE, None)
        forget_own_connection(session)
        if self.core is not None:
            self.core.close()  # gives the leased connection back with it
        else:
            self.fairy.close()

    def _driver(self) -> Any:
        driver = self.fairy.dbapi_connection
        assert driver is not None, "a leased connection is open until given back"
        return driver

    def _roll_back(self, session: Session) -> None:
        try:
            if session.in_transaction():
                session.rollback()
            self._driver().rollback()
        except Exception:
            # The connection is unusable (the server went away): the pool drops it.
            logging.getLogger("switchboard.db").warning(
                "rolling back a webhook's transaction failed; its connection is discarded",
                exc_info=True,
            )
            self.fairy.invalidate()


def untouched(session: Session) -> bool:
    """Whether the ORM never ran in the session: no transaction, no object in it. Closing
    such a session would only swap its empty maps for new ones (~40 µs on the call path)."""
    return not (session.in_transaction() or session.identity_map or session.new or session.deleted)


IDLE_WEBHOOK_SESSIONS = 32
"""How many sessions `Database.webhook_transaction` keeps for the next webhooks."""


class _LeasedSession(Session):
    """The session of a `webhook_transaction`: its ORM work runs on the leased connection."""

    def get_bind(self, *args: Any, **kwargs: Any) -> Any:
        lease: _Lease | None = self.info.get(_LEASE)
        if lease is None:
            return super().get_bind(*args, **kwargs)
        if runs_alone(self):
            raise NeedsTransaction("the ORM runs in a transaction")
        return lease.connection()


@dataclass
class Database:
    """The engine and session factory of one app instance."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

    @classmethod
    def from_url(cls, database_url: str, *, pool_size: int = POOL_SIZE) -> Database:
        """Build the engine and a session factory for a URL."""
        engine = create_engine(database_url, pool_size=pool_size)
        return cls(engine, async_sessionmaker(engine, expire_on_commit=False))

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite database."""
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits when the block ends, rolls back on any error.

        Work registered with `after_commit` runs after the commit, before the block ends.
        """
        session = self.sessionmaker()
        try:
            async with session.begin():
                yield session
            await run_after_commit(session, self)
        finally:
            await _close(session)

    @asynccontextmanager
    async def webhook_transaction(self, *, alone: bool = False) -> AsyncIterator[AsyncSession]:
        """`transaction()` for a Twilio webhook, with a fifth of its overhead.

        A webhook's statements run on the driver (`app.core.driver_sql`), so the session's
        own transaction, Core connection and unit of work are mostly ceremony: ~400k
        instructions of a one-statement transaction's ~540k (bench/RESULTS.md, issue 17).
        Here the transaction takes a pooled connection itself, lends it to the driver
        statements, and commits or rolls back on it directly, in one trip through
        SQLAlchemy's greenlet each way. The session is a real one: whatever ORM work the
        webhook does (rare on the call path: a queue entry, a work item) runs over a Core
        connection made on that same pooled connection when first needed, and commits with
        the rest. Otherwise as `transaction()`: commits when the block ends, rolls back on
        any error, runs the work registered with `after_commit` after the commit. On
        PostgreSQL its prepared statements run on generic plans (`_BEGIN_GENERIC`: the call
        path's statements are written for them, and PostgreSQL would plan some afresh on
        every run).

        `alone=True` (PostgreSQL; ignored on SQLite, whose BEGIN and COMMIT cost no trip):
        no transaction at all, for a webhook that reads and then writes one statement that
        guards itself (`driver_sql.statements_alone`): its reads run each on its own, its
        final statement commits by itself, two round trips fewer (no BEGIN, no COMMIT).
        Anything else it meets (another write, the ORM) raises `NeedsTransaction` before
        anything is written, as does a pooled connection found dead by its first statement
        (there is no ping: the connection is thrown away); the caller runs the work again
        in a transaction.
        """
        session = self._webhook_sessions()
        sync = session.sync_session
        engine = self.engine.sync_engine
        sqlite = self.is_sqlite
        alone = alone and not sqlite
        # SQLite with its connection idle takes it and, below, commits and gives it back
        # on the event loop without the greenlet's two trips (~0.4% of a webhook's instructions).
        lease: _Lease | None
        if sqlite:
            ready = _Lease.ready(engine.pool)
            lease = _Lease.take(engine) if ready else None
        else:
            # PostgreSQL with an idle connection: taken on the loop too, its BEGIN (when it
            # needs one) sent from here rather than by the checkout ping in the greenlet.
            ready = _Lease.ready(engine.pool, unpinged=True)
            lease = await _Lease.take_here(engine, begin=not alone) if ready else None
        if lease is None:
            lease = await greenlet_spawn(_Lease.take, engine, not alone, True)
        sync.info[_LEASE] = lease
        remember_own_connection(sync, lease.fairy.dbapi_connection)
        if alone:
            statements_alone(sync)
        try:
            try:
                yield session
                ended = lease.end_here(sync) if sqlite else await lease.commit_here(sync)
            except BaseException as error:
                if (
                    alone
                    and isinstance(error, DBAPIError | OSError)
                    and (not wrote_alone(sync) or (rerun_safe_alone(sync) and not lease.alive()))
                ):
                    # Only reads ran, or a write that is safe to run again on a connection
                    # that died (in the pool, or under it). Drop it; the work runs again
                    # in a transaction, whose checkout pings.
                    await greenlet_spawn(lease.drop, sync)
                    raise NeedsTransaction(
                        f"the connection failed: {error!r}", by_the_work=False
                    ) from error
                await greenlet_spawn(lease.end, sync, False)
                raise
            if not ended:
                await greenlet_spawn(lease.end, sync, True)
        except BaseException:
            drop_after_commit(session)
            raise
        await run_after_commit(session, self)
        self._keep_session(session)

    def _webhook_sessions(self) -> AsyncSession:
        """A session for a webhook: one an earlier webhook finished with, else a new one."""
        idle: list[AsyncSession] | None = self.__dict__.get("_idle_webhook_sessions")
        if idle:
            return idle.pop()
        maker = self.__dict__.get("_webhook_maker")
        if maker is None:
            maker = self.__dict__["_webhook_maker"] = async_sessionmaker(
                self.engine, expire_on_commit=False, sync_session_class=_LeasedSession
            )
        return maker()

    def _keep_session(self, session: AsyncSession) -> None:
        """Keep a committed webhook's session for the next one (making one and closing it
        cost ~80 µs of a webhook in place, where its CPU caches are cold).

        A session is reusable once closed (SQLAlchemy's contract); one the ORM never ran
        in has nothing to close (`untouched`). Its `info` starts empty again. Only a
        transaction that ended normally gives its session back: one given up at a
        deadline or failed may still be unwinding elsewhere.
        """
        sync = session.sync_session
        if not untouched(sync):
            sync.close()
        sync.info.clear()
        idle: list[AsyncSession] = self.__dict__.setdefault("_idle_webhook_sessions", [])
        if len(idle) < IDLE_WEBHOOK_SESSIONS:
            idle.append(session)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
