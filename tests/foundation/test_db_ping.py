"""A pooled PostgreSQL connection whose server side went away is replaced on checkout; the
default pool keeps a burst's connections."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from app.config import Settings
from app.core.db import create_engine


@pytest.mark.postgres_only
async def test_a_connection_killed_while_pooled_is_replaced_unseen(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1)
    other = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            first = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with other.begin() as conn:  # the server drops the pooled connection
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        async with engine.connect() as conn:
            second = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert second != first
    finally:
        await engine.dispose()
        await other.dispose()


def _queries(raw: Any) -> list[str]:
    """From now on, every query the connection's asyncpg driver sends, in order."""
    sent: list[str] = []
    raw.driver_connection.add_query_logger(lambda record: sent.append(record.query.strip()))
    return sent


@pytest.mark.postgres_only
async def test_the_ping_is_the_transactions_begin(database_url: str) -> None:
    """One round trip fewer per transaction: the checkout's ping begins it, and the
    statements run in that transaction, not in one the adapter begins again."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE ping_t (id int PRIMARY KEY)"))
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            sent = _queries(raw)
        async with engine.begin() as conn:
            assert (await conn.get_raw_connection()).driver_connection.is_in_transaction()
            await conn.execute(text("INSERT INTO ping_t VALUES (1)"))
        # The driver logs its simple queries (its prepared statements go unlogged): the
        # unused checkout's ROLLBACK, then one BEGIN (the ping) and the COMMIT.
        assert [q.split()[0].rstrip(";") for q in sent] == ["ROLLBACK", "BEGIN", "COMMIT"]
        with pytest.raises(IntegrityError):  # a failed statement rolls back as before
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO ping_t VALUES (2)"))
                await conn.execute(text("INSERT INTO ping_t VALUES (1)"))
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT id FROM ping_t"))).scalars().all()
            # A connection used again after its commit begins as the adapter does.
            await conn.commit()
            await conn.execute(text("INSERT INTO ping_t VALUES (3)"))
            await conn.commit()
        assert rows == [1]
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM ping_t"))).scalar() == 2
    finally:
        await engine.dispose()


@pytest.mark.postgres_only
async def test_a_connection_given_back_unused_is_idle_and_autocommit_still_works(
    database_url: str,
) -> None:
    engine = create_engine(database_url, pool_size=1)
    other = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with engine.connect():
            pass  # checked out (the ping began a transaction) and given back unused
        async with other.connect() as conn:
            state = await conn.execute(
                text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            )
            assert state.scalar_one() == "idle"  # not "idle in transaction"
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text("VACUUM pg_catalog.pg_am"))  # refused inside a transaction
    finally:
        await engine.dispose()
        await other.dispose()


@pytest.mark.postgres_only
async def test_sixteen_webhooks_at_once_keep_their_connections(database_url: str) -> None:
    """The default pool holds a burst of 16 transactions at once (bench.callpath's closed
    loop) without opening a connection per transaction: a connection opened past the pool
    is closed after one use, and each one costs PostgreSQL a new server process."""
    engine = create_engine(database_url, pool_size=Settings.model_fields["db_pool_size"].default)
    opened: list[object] = []
    event.listen(engine.sync_engine, "connect", lambda dbapi, _record: opened.append(dbapi))

    async def webhook() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("SELECT pg_sleep(0.02)"))

    try:
        for _ in range(5):
            await asyncio.gather(*(webhook() for _ in range(16)))
        assert len(opened) == 16
    finally:
        await engine.dispose()
