"""`Database.webhook_transaction`: the call path's transaction on a connection it took itself.

Driver statements (`app.core.driver_sql`) and whatever ORM work the webhook does share that
one connection and commit or roll back together; the connection always goes back to the
pool; work registered with `after_commit` runs only after a commit.
"""

from __future__ import annotations

import asyncio
from contextlib import nullcontext
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

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
