"""PostgreSQL: every connection of the app plans with indexes and without JIT.

A prepared statement keeps its plan for the connection's life. Planned while `call_states`
was empty (a new database, or statistics that autovacuum left behind), a lookup by key read
the whole table on every run as calls added rows to it: the language digit's write took
0.28 ms of the database's time at the start of a run and 1.5 ms 4,000 calls later
(bench/RESULTS.md, twenty-first round). `app.core.db.PLANNER_SETTINGS` rules that out.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.core.db import PLANNER_SETTINGS, Database
from app.core.driver_sql import Sql, run

pytestmark = pytest.mark.postgres_only

SETTINGS = Sql.of("SELECT current_setting('enable_seqscan'), current_setting('jit')")
BY_KEY = "SELECT state, version FROM call_states WHERE call_id = $1"


async def _generic_plan(raw: Any) -> str:
    """The generic plan (the one a prepared statement keeps) of a lookup by key."""
    await raw.execute("SET plan_cache_mode = force_generic_plan")
    await raw.execute(f"PREPARE by_key(integer) AS {BY_KEY}")
    try:
        rows = await raw.fetch("EXPLAIN EXECUTE by_key(1)")
    finally:
        await raw.execute("DEALLOCATE by_key; RESET plan_cache_mode")
    return "\n".join(row[0] for row in rows)


async def test_every_connection_plans_with_indexes_and_without_jit(db: Database) -> None:
    assert PLANNER_SETTINGS == {"enable_seqscan": "off", "jit": "off"}
    async with db.transaction() as session:  # the API's and the console's
        found = await run(session, SETTINGS)
        assert found.rows[0] == ("off", "off")
    async with db.webhook_transaction() as session:
        found = await run(session, SETTINGS)
        assert found.rows[0] == ("off", "off")
    async with db.webhook_transaction(alone=True) as session:  # no BEGIN, no ping
        found = await run(session, SETTINGS)
        assert found.rows[0] == ("off", "off")


async def test_a_plan_made_on_an_empty_table_finds_rows_by_its_key(db: Database) -> None:
    """`call_states` is empty and its statistics say so, as on a new database that
    autovacuum (or `bench.dataset`) has analyzed. With the planner's defaults its generic
    plan reads the table whole (and would go on doing so as it grows); on the app's
    connections it takes the primary key."""
    async with db.engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        await raw.execute("ANALYZE call_states")
        assert "Index Scan using pk_call_states" in await _generic_plan(raw)
        await raw.execute("SET enable_seqscan = on")  # PostgreSQL's default
        try:
            assert "Seq Scan on call_states" in await _generic_plan(raw)
        finally:
            await raw.execute("RESET enable_seqscan")
        setting = await raw.fetchval("SELECT current_setting('enable_seqscan')")
        assert setting == "off"  # RESET goes back to the connection's own setting
