"""Statements run alone: `Database.webhook_transaction(alone=True)`.

On PostgreSQL a webhook whose only write is one statement that guards itself runs without a
transaction: no BEGIN, no COMMIT, its reads each on their own and its final statement
committing by itself. Anything else (a second write, the ORM, a connection found dead)
raises `NeedsTransaction` before anything is written. On SQLite `alone` is ignored.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text

from app.calls import records
from app.calls import service as calls
from app.core.db import Database
from app.core.driver_sql import NeedsTransaction, Sql, final_statement, run
from app.models.account import Account
from app.models.call import Call, CallStep

NOW = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
RENAME = Sql.of("UPDATE accounts SET name = ? WHERE number = ?")
NAME = Sql.of("SELECT name FROM accounts WHERE number = ?")


@pytest.fixture
async def alone_db(database_url: str) -> Any:
    """A database of its own whose connections log the simple queries they send (BEGIN,
    COMMIT, ROLLBACK) and the statements run on the driver (`driver_sql`)."""
    db = Database.from_url(database_url, pool_size=2)
    sent: list[str] = []
    if not db.is_sqlite:

        @event.listens_for(db.engine.sync_engine, "connect")
        def _log(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.driver_connection.add_query_logger(
                lambda record: sent.append(record.query.strip())
            )

    async with db.transaction() as session:
        session.add(Account(number="AC1", name="first", created_at=NOW, updated_at=NOW))
    await asyncio.sleep(0.01)  # the driver calls its query loggers soon after, not at once
    sent.clear()
    try:
        yield db, sent
    finally:
        await db.dispose()


async def _name(db: Database) -> str:
    async with db.transaction() as session:
        name: str = await session.scalar(select(Account.name).where(Account.number == "AC1"))
        return name


def _checked_out(db: Database) -> int:
    return int(db.engine.sync_engine.pool.checkedout())  # type: ignore[attr-defined]


@pytest.mark.postgres_only
async def test_reads_then_one_final_write_need_no_begin_and_no_commit(alone_db: Any) -> None:
    db, sent = alone_db
    async with db.webhook_transaction(alone=True) as session:
        assert (await run(session, NAME, ("AC1",))).rows[0][0] == "first"
        final_statement(session)
        assert (await run(session, RENAME, ("renamed", "AC1"))).rowcount == 1
    await asyncio.sleep(0.01)
    assert [q.split()[0] for q in sent] == ["SELECT", "UPDATE"]  # nothing but the two
    assert _checked_out(db) == 0
    assert await _name(db) == "renamed"


@pytest.mark.postgres_only
async def test_a_write_before_the_final_statement_needs_a_transaction(alone_db: Any) -> None:
    db, _ = alone_db
    with pytest.raises(NeedsTransaction) as raised:
        async with db.webhook_transaction(alone=True) as session:
            await run(session, NAME, ("AC1",))
            await run(session, RENAME, ("renamed", "AC1"))
    assert raised.value.by_the_work
    assert _checked_out(db) == 0
    assert await _name(db) == "first"  # nothing was written


@pytest.mark.postgres_only
async def test_the_orm_needs_a_transaction(alone_db: Any) -> None:
    db, _ = alone_db
    with pytest.raises(NeedsTransaction):
        async with db.webhook_transaction(alone=True) as session:
            await session.scalars(select(Account))
    with pytest.raises(NeedsTransaction):  # ORM work pending beside the final statement
        async with db.webhook_transaction(alone=True) as session:
            session.add(Account(number="AC2", name="second", created_at=NOW, updated_at=NOW))
            final_statement(session)
    assert _checked_out(db) == 0
    async with db.transaction() as session:
        assert await session.scalar(select(Account).where(Account.number == "AC2")) is None


@pytest.mark.postgres_only
async def test_nothing_may_follow_the_final_statement(alone_db: Any) -> None:
    db, _ = alone_db
    with pytest.raises(RuntimeError, match="after the final one"):
        async with db.webhook_transaction(alone=True) as session:
            final_statement(session)
            await run(session, RENAME, ("renamed", "AC1"))
            await run(session, NAME, ("AC1",))
    assert await _name(db) == "renamed"  # it committed by itself
    assert _checked_out(db) == 0


@pytest.mark.postgres_only
async def test_a_connection_dead_in_the_pool_fails_over_to_a_transaction(alone_db: Any) -> None:
    db, _ = alone_db
    async with db.webhook_transaction() as session:
        pid = (await run(session, Sql.of("SELECT pg_backend_pid()"))).rows[0][0]
    other = Database.from_url(db.engine.url.render_as_string(hide_password=False), pool_size=1)
    try:  # the server drops the pooled connection
        async with other.transaction() as session:
            await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await other.dispose()
    await asyncio.sleep(0.05)
    with pytest.raises(NeedsTransaction) as raised:
        async with db.webhook_transaction(alone=True) as session:
            await run(session, NAME, ("AC1",))
    assert not raised.value.by_the_work  # the work itself could run alone
    assert _checked_out(db) == 0
    async with db.webhook_transaction() as session:  # the failover: pinged, a live one
        assert (await run(session, Sql.of("SELECT pg_backend_pid()"))).rows[0][0] != pid
        await run(session, RENAME, ("renamed", "AC1"))
    assert await _name(db) == "renamed"


async def test_alone_never_leaves_half_the_work_written(alone_db: Any) -> None:
    """SQLite ignores `alone` (a transaction, rolled back on the error); PostgreSQL stops at
    the first write that is not the final statement."""
    db, _ = alone_db
    with pytest.raises((RuntimeError, NeedsTransaction)):
        async with db.webhook_transaction(alone=True) as session:
            await run(session, RENAME, ("renamed", "AC1"))
            raise RuntimeError("rolled back")
    assert await _name(db) == "first"
    assert _checked_out(db) == 0


# The call's versioned save, run alone.


async def _new_call(db: Database, sid: str) -> records.CallRecord:
    record = records.opened(
        calls.new_call(
            sid=sid, from_number="+14155550100", to_number="+18005550100", status=None, now=NOW
        )
    )
    values = {"state": {"flow": "support"}, "last_response": "<Response/>", "path_logged": 0}
    async with db.webhook_transaction(alone=True) as session:
        saved = await records.save_with_state(
            session, record, [], {**values, "updated_at": NOW}, read_version=None
        )
    assert saved
    return record


class _Conflict(Exception):
    pass


async def _save(
    db: Database, sid: str, *, read_version: int, language: str, first_seq: int = 0
) -> bool:
    """Save as the webhooks do: a save that lost rolls back what its transaction wrote (on
    SQLite); run alone (PostgreSQL) it must have written nothing by itself."""
    try:
        await _save_or_raise(db, sid, read_version, language, first_seq)
    except _Conflict:
        return False
    return True


async def _save_or_raise(
    db: Database, sid: str, read_version: int, language: str, first_seq: int
) -> None:
    async with db.webhook_transaction(alone=True) as session:
        record, row = await records.call_and_state(session, sid)
        assert record is not None and row is not None
        record.call.language = language
        later = NOW + timedelta(seconds=5)
        assert record.call.id is not None
        entry = ("language", language, later.isoformat())
        steps = calls.path_rows(record.call.id, [entry], first_seq=first_seq, now=later)
        values = {"state": {"flow": "support"}, "last_response": language, "path_logged": 1}
        if not await records.save_with_state(
            session, record, steps, {**values, "updated_at": later}, read_version=read_version
        ):
            raise _Conflict


async def _stored(db: Database, sid: str) -> tuple[str | None, list[str], int]:
    async with db.transaction() as session:
        call = await session.scalar(select(Call).where(Call.sid == sid))
        assert call is not None
        steps = await session.scalars(select(CallStep.input).where(CallStep.call_id == call.id))
        version = (
            await session.execute(
                text("SELECT version FROM call_states WHERE call_id = :id"), {"id": call.id}
            )
        ).scalar_one()
        return call.language, [s or "" for s in steps], version


async def test_a_save_over_a_stale_version_writes_nothing(alone_db: Any) -> None:
    db, _ = alone_db
    sid = "CA" + "5" * 32
    await _new_call(db, sid)
    assert await _save(db, sid, read_version=1, language="es")
    assert await _stored(db, sid) == ("es", ["es"], 2)
    # Saved over version 1 again, as a webhook that read it before the one above saved:
    # neither the call's columns nor the path are written, not only the state (alone, the
    # statement guards itself; in a transaction the caller rolls back instead).
    assert not await _save(db, sid, read_version=1, language="fr", first_seq=1)
    assert await _stored(db, sid) == ("es", ["es"], 2)


@pytest.mark.postgres_only
async def test_a_save_alone_waits_for_a_transaction_holding_the_call(alone_db: Any) -> None:
    """The statement locks the call's row before the state's, as a webhook's transaction
    does: it waits for the transaction, then finds the version moved (no deadlock)."""
    db, _ = alone_db
    sid = "CA" + "6" * 32
    await _new_call(db, sid)
    holding = asyncio.Event()
    release = asyncio.Event()

    async def in_a_transaction() -> bool:
        async with db.webhook_transaction() as session:
            record, row = await records.call_and_state(session, sid)  # FOR UPDATE OF calls
            assert record is not None and row is not None
            holding.set()
            await release.wait()
            values = {"state": {}, "last_response": "en", "path_logged": 0, "updated_at": NOW}
            return await records.save_with_state(session, record, [], values, read_version=1)

    first = asyncio.create_task(in_a_transaction())
    await holding.wait()
    second = asyncio.create_task(_save(db, sid, read_version=1, language="es"))
    await asyncio.sleep(0.3)
    assert not second.done()  # waiting for the call's row
    release.set()
    assert await asyncio.wait_for(first, 10)
    assert not await asyncio.wait_for(second, 10)
    assert await _stored(db, sid) == (None, [], 2)
