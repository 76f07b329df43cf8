"""`Database.webhook_transaction`: the call path's transaction on a connection it took itself.

Driver statements (`app.core.driver_sql`) and whatever ORM work the webhook does share that
one connection and commit or roll back together; the connection always goes back to the
pool; work registered with `after_commit` runs only after a commit.
"""

from __future__ import annotations

import asyncio
from contextlib import nullcontext
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.util.concurrency import greenlet_spawn

from app.core import db as db_module
from app.core.db import _LEASE as LEASE
from app.core.db import Database, after_commit
from app.core.driver_sql import Sql, run
from app.core.sqlite_driver import statements_on_loop
from app.models.account import Account

NOW = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
RENAME = Sql.of("UPDATE accounts SET name = ? WHERE number = ?")


def _account(number: str, name: str) -> Account:
    return Account(number=number, name=name, created_at=NOW, updated_at=NOW)


async def _names(db: Database) -> dict[str, str]:
    async with db.transaction() as session:
        return {a.number: a.name for a in await session.scalars(select(Account))}


def _checked_out(db: Database) -> int:
    return int(db.engine.sync_engine.pool.checkedout())  # type: ignore[attr-defined]


@pytest.fixture
async def seeded(db: Database) -> Database:
    async with db.transaction() as session:
        session.add(_account("AC1", "first"))
    return db


@pytest.mark.parametrize("on_loop", [True, False], ids=["on-the-loop", "in-the-thread"])
async def test_driver_and_orm_work_commit_together_on_one_connection(
    seeded: Database, on_loop: bool
) -> None:
    db = seeded
    with statements_on_loop() if on_loop else nullcontext():
        async with db.webhook_transaction() as session:
            assert (await run(session, RENAME, ("renamed", "AC1"))).rowcount == 1
            # The ORM reads what the driver wrote: the same connection and transaction
            # (on SQLite a second connection could not even be had: the pool holds one).
            found = await session.scalar(select(Account).where(Account.number == "AC1"))
            assert found is not None and found.name == "renamed"
            session.add(_account("AC2", "added"))  # never flushed by the block itself
    assert found.name == "renamed"  # what the webhook read stays readable after it
    assert await _names(db) == {"AC1": "renamed", "AC2": "added"}
    assert _checked_out(db) == 0


async def test_an_error_rolls_back_both_and_gives_the_connection_back(seeded: Database) -> None:
    db = seeded
    ran: list[str] = []

    async def later(_db: Database) -> None:
        ran.append("after commit")

    with pytest.raises(RuntimeError, match="the flow failed"):
        async with db.webhook_transaction() as session:
            await run(session, RENAME, ("lost", "AC1"))
            session.add(_account("AC3", "lost too"))
            await session.flush()
            after_commit(session, later)
            raise RuntimeError("the flow failed")
    assert await _names(db) == {"AC1": "first"}
    assert ran == []
    assert _checked_out(db) == 0


async def test_a_failed_commit_rolls_back_the_driver_statements(seeded: Database) -> None:
    """The ORM's pending work is flushed at the commit: when that fails, the statements
    the driver ran before it are undone with it, and the error is the caller's."""
    db = seeded
    with pytest.raises(IntegrityError):
        async with db.webhook_transaction() as session:
            await run(session, RENAME, ("lost", "AC1"))
            session.add(_account("AC1", "a duplicate number"))
    assert await _names(db) == {"AC1": "first"}
    assert _checked_out(db) == 0


async def test_after_commit_work_runs_once_committed(seeded: Database) -> None:
    db = seeded
    seen: list[dict[str, str]] = []

    async def later(database: Database) -> None:
        seen.append(await _names(database))  # a transaction of its own: the lease is back

    async with db.webhook_transaction() as session:
        await run(session, RENAME, ("committed", "AC1"))
        after_commit(session, later)
    assert seen == [{"AC1": "committed"}]


async def test_concurrent_webhooks_each_get_their_own_transaction(seeded: Database) -> None:
    """More webhooks than pooled connections (SQLite has one): each waits its turn for a
    connection and none sees another's uncommitted work."""
    db = seeded

    async def webhook(number: int) -> None:
        async with db.webhook_transaction() as session:
            session.add(_account(f"AC{100 + number}", f"caller {number}"))
            await session.flush()
            await asyncio.sleep(0)  # let the others run while this one holds its lease
            await run(session, RENAME, (f"renamed {number}", f"AC{100 + number}"))

    await asyncio.gather(*(webhook(n) for n in range(12)))
    names = await _names(db)
    assert {names[f"AC{100 + n}"] for n in range(12)} == {f"renamed {n}" for n in range(12)}
    assert _checked_out(db) == 0


@pytest.mark.postgres_only
async def test_a_connection_lost_mid_transaction_is_discarded(seeded: Database) -> None:
    db = seeded
    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises for a dead peer
        async with db.webhook_transaction() as session:
            pid = (await run(session, Sql.of("SELECT pg_backend_pid()"))).rows[0][0]
            async with db.engine.connect() as other:
                await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                await other.commit()
            await run(session, RENAME, ("lost", "AC1"))
    assert _checked_out(db) == 0
    async with db.webhook_transaction() as session:  # the pool connects afresh
        assert (await run(session, RENAME, ("kept", "AC1"))).rowcount == 1
    assert await _names(db) == {"AC1": "kept"}


def _counting_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every trip `webhook_transaction` makes through SQLAlchemy's greenlet, by what for."""
    trips: list[str] = []

    async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(fn, "__name__", repr(fn)))
        return await greenlet_spawn(fn, *args, **kwargs)

    monkeypatch.setattr(db_module, "greenlet_spawn", counted)
    return trips


async def test_webhooks_on_the_loop_take_and_commit_without_the_greenlet(
    seeded: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a connection idle in the pool, a webhook takes it, commits and gives it back on
    the event loop (PostgreSQL: its BEGIN and COMMIT sent from there); ORM work goes
    through the greenlet to commit, as before."""
    db = seeded
    trips = _counting_trips(monkeypatch)
    with statements_on_loop():
        async with db.webhook_transaction() as session:
            await run(session, RENAME, ("on the loop", "AC1"))
    assert trips == []
    assert await _names(db) == {"AC1": "on the loop"}
    assert _checked_out(db) == 0

    trips.clear()
    with statements_on_loop():
        async with db.webhook_transaction() as session:
            await run(session, RENAME, ("with the orm", "AC1"))
            session.add(_account("AC2", "added"))
    assert trips == ["end"]
    assert await _names(db) == {"AC1": "with the orm", "AC2": "added"}
    assert _checked_out(db) == 0


@pytest.mark.postgres_only
async def test_a_transaction_taken_on_the_loop_is_one_the_others_cannot_see(
    seeded: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: the BEGIN sent on the loop starts a real transaction (generic plans set
    in it): another connection sees nothing until the commit, and a rollback undoes all."""
    db = seeded
    trips = _counting_trips(monkeypatch)
    async with db.webhook_transaction() as session:
        await run(session, RENAME, ("uncommitted", "AC1"))
        mode = await run(session, Sql.of("SELECT current_setting('plan_cache_mode')"))
        assert mode.rows[0][0] == "force_generic_plan"
        assert await _names(db) == {"AC1": "first"}
    assert await _names(db) == {"AC1": "uncommitted"}
    with pytest.raises(RuntimeError, match="undone"):
        async with db.webhook_transaction() as session:
            await run(session, RENAME, ("rolled back", "AC1"))
            raise RuntimeError("undone")
    assert await _names(db) == {"AC1": "uncommitted"}
    assert _checked_out(db) == 0
    assert "take" not in trips


@pytest.mark.postgres_only
async def test_a_dead_idle_connection_taken_on_the_loop_is_replaced(
    seeded: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: an idle pooled connection whose server process is gone fails the BEGIN
    sent on the loop; it is thrown away and the webhook runs on a new one."""
    db = seeded
    trips = _counting_trips(monkeypatch)
    async with db.engine.connect() as other:  # held: the webhook gets a connection of its own
        async with db.webhook_transaction() as session:
            pid = (await run(session, Sql.of("SELECT pg_backend_pid()"))).rows[0][0]
        await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await other.commit()
    await asyncio.sleep(0.2)  # the server process is gone; its connection waits in the pool
    trips.clear()
    async with db.webhook_transaction() as session:
        assert (await run(session, Sql.of("SELECT pg_backend_pid()"))).rows[0][0] != pid
        assert (await run(session, RENAME, ("kept", "AC1"))).rowcount == 1
    assert trips[:2] == ["invalidate", "take"]  # thrown away, then a connection pinged
    assert await _names(db) == {"AC1": "kept"}
    assert _checked_out(db) == 0


async def test_a_commit_that_fails_rolls_back_and_gives_the_connection_back(
    seeded: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = seeded
    with statements_on_loop(), pytest.raises(OSError, match="disk full"):
        async with db.webhook_transaction() as session:
            await run(session, RENAME, ("lost", "AC1"))
            driver = session.sync_session.info[LEASE].fairy.dbapi_connection
            # SQLite commits with the adapter's commit(); PostgreSQL with the transaction's
            # own, on the loop (`_Lease.commit_here`).
            owner: Any = type(driver) if db.is_sqlite else db_module._BegunByPing
            commit = owner.commit

            def failing(self: Any) -> None:
                monkeypatch.setattr(owner, "commit", commit)  # once
                raise OSError("disk full")

            monkeypatch.setattr(owner, "commit", failing)
    assert _checked_out(db) == 0
    assert await _names(db) == {"AC1": "first"}
    with statements_on_loop():
        async with db.webhook_transaction() as session:  # the connection works on
            await run(session, RENAME, ("kept", "AC1"))
    assert await _names(db) == {"AC1": "kept"}


async def test_webhooks_waiting_for_the_connection_commit_in_turn(seeded: Database) -> None:
    """Driver-only webhooks on the loop, more than the pool holds: those that find the
    connection idle take it on the loop, the others wait for it in the greenlet."""
    db = seeded
    async with db.transaction() as session:
        session.add_all(_account(f"AC{200 + n}", "new") for n in range(8))

    async def webhook(number: int) -> None:
        with statements_on_loop():
            async with db.webhook_transaction() as session:
                await asyncio.sleep(0)
                await run(session, RENAME, (f"turn {number}", f"AC{200 + number}"))
                await asyncio.sleep(0)

    await asyncio.gather(*(webhook(n) for n in range(8)))
    names = await _names(db)
    assert {names[f"AC{200 + n}"] for n in range(8)} == {f"turn {n}" for n in range(8)}
    assert _checked_out(db) == 0


@pytest.mark.parametrize("on_loop", [True, False], ids=["on-the-loop", "in-the-thread"])
async def test_a_committed_webhooks_session_serves_the_next_one_afresh(
    seeded: Database, on_loop: bool
) -> None:
    """The next webhook gets the session the last one committed with: with nothing of the
    last one in it (no object, no `info`), and its ORM work as usable as before."""
    db = seeded
    with statements_on_loop() if on_loop else nullcontext():
        async with db.webhook_transaction() as first:
            await run(first, RENAME, ("driver only", "AC1"))
            first.info["left behind"] = True
        async with db.webhook_transaction() as second:
            assert second is first
            assert "left behind" not in second.info
            found = await second.scalar(select(Account).where(Account.number == "AC1"))
            assert found is not None and found.name == "driver only"
            second.add(_account("AC2", "added"))
        # The ORM ran in it: closed before it is kept, its objects detached but readable.
        assert found not in second.sync_session and found.name == "driver only"
        async with db.webhook_transaction() as third:
            assert third is first
            assert not third.sync_session.identity_map and not third.in_transaction()
            assert (await run(third, RENAME, ("third", "AC2"))).rowcount == 1
    assert await _names(db) == {"AC1": "driver only", "AC2": "third"}
    assert _checked_out(db) == 0


async def test_a_failed_webhooks_session_is_not_used_again(seeded: Database) -> None:
    db = seeded
    with pytest.raises(RuntimeError):
        async with db.webhook_transaction() as failed:
            await run(failed, RENAME, ("lost", "AC1"))
            raise RuntimeError("the flow failed")
    async with db.webhook_transaction() as after:
        assert after is not failed
        await run(after, RENAME, ("kept", "AC1"))
    assert await _names(db) == {"AC1": "kept"}


async def test_concurrent_webhooks_never_share_a_kept_session(seeded: Database) -> None:
    """Each webhook under way has a session of its own, kept or new (on SQLite the second
    waits for the one connection holding its own session)."""
    db = seeded
    held: list[Any] = []

    async def webhook(name: str) -> None:
        async with db.webhook_transaction() as session:
            held.append(session)
            for _ in range(3):
                await asyncio.sleep(0)  # let the other one start meanwhile
            await run(session, RENAME, (name, "AC1"))

    for round_ in range(3):  # the later rounds take the sessions the first kept
        held.clear()
        await asyncio.wait_for(asyncio.gather(webhook(f"a{round_}"), webhook(f"b{round_}")), 10)
        assert len(held) == 2 and held[0] is not held[1]
    assert (await _names(db))["AC1"] in {"a2", "b2"}


@pytest.mark.postgres_only
async def test_an_overflow_connection_given_back_on_the_loop_is_closed(
    seeded: Database, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL: with more webhooks at once than the pool keeps connections, the pool
    closes the extra ones as they come back; one given back on the loop is closed through
    the greenlet (closing awaits the driver), not left open with an error logged."""
    db = Database.from_url(database_url, pool_size=1)  # keeps one, opens one more at most
    try:
        drivers: list[Any] = []
        both = asyncio.Event()

        async def webhook(number: int) -> None:
            async with db.webhook_transaction() as session:
                await run(session, RENAME, (f"webhook {number}", "AC1" if number else "AC2"))
                drivers.append(session.sync_session.info[LEASE].fairy.driver_connection)
                if len(drivers) == 2:
                    both.set()
                await both.wait()  # both connections leased at once

        with caplog.at_level("WARNING"):
            await asyncio.gather(webhook(0), webhook(1))
        assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
        assert _checked_out(db) == 0
        assert sorted(d.is_closed() for d in drivers) == [False, True]  # one kept, one closed
        assert (await _names(db))["AC1"] == "webhook 1"
    finally:
        await db.dispose()
