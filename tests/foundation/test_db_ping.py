"""A pooled PostgreSQL connection whose server side went away is replaced on checkout."""

from __future__ import annotations

import pytest
from sqlalchemy import text

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
