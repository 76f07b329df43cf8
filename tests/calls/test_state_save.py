"""A call's IVR state is saved only over the version it was read at (optimistic concurrency)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.calls import records
from app.calls.records import save_state
from app.calls.repository import state_of
from app.calls.service import path_rows
from app.core.clock import FixedClock
from app.core.db import Database
from app.models.call import Call, CallStateRow, CallStep
from tests.routing.calls import add_call


async def _call_with_state(db: Database, clock: FixedClock) -> int:
    async with db.transaction() as session:
        call_id = await add_call(session, clock.now(), status="in-progress", age=timedelta(0))
        session.add(
            CallStateRow(
                call_id=call_id,
                state={"step": "welcome"},
                version=3,
                last_response="<Response/>",
                path_logged=0,
                updated_at=clock.now(),
            )
        )
    return call_id


def _values(step: str, clock: FixedClock) -> dict[str, Any]:
    return {
        "state": {"step": step},
        "last_response": f"<Response><Say>{step}</Say></Response>",
        "path_logged": 1,
        "updated_at": clock.now(),
    }


async def test_a_save_from_a_stale_read_is_refused(db: Database, clock: FixedClock) -> None:
    call_id = await _call_with_state(db, clock)
    async with db.transaction() as session:
        first = await save_state(session, call_id, read_version=3, values=_values("menu", clock))
    async with db.transaction() as session:
        # Read at version 3 too, but saved after the first: it must not overwrite it.
        stale = await save_state(session, call_id, read_version=3, values=_values("late", clock))
        row = await state_of(session, call_id)
    assert (first, stale) == (True, False)
    assert row is not None
    assert (row.version, row.state) == (4, {"step": "menu"})


@pytest.mark.postgres_only
async def test_two_saves_from_one_read_at_once_only_one_wins(
    database_url: str, db: Database, clock: FixedClock
) -> None:
    call_id = await _call_with_state(db, clock)
    # Two instances with their own connections, both holding version 3 (read without the
    # row lock), save at the same moment; the second waits on the first's row lock and,
    # once it commits, finds the version moved on.
    instances = [Database.from_url(database_url) for _ in range(2)]
    both_ready = asyncio.Barrier(2)

    async def save(instance: Database, step: str) -> bool:
        async with instance.transaction() as session:
            await session.get(CallStateRow, call_id)
            await both_ready.wait()
            return await save_state(session, call_id, read_version=3, values=_values(step, clock))

    try:
        results = await asyncio.gather(save(instances[0], "a"), save(instances[1], "b"))
    finally:
        for instance in instances:
            await instance.dispose()
    assert sorted(results) == [False, True]
    async with db.transaction() as session:
        row = await state_of(session, call_id)
    assert row is not None and row.version == 4
    assert row.state == {"step": "a" if results[0] else "b"}


async def test_a_whole_save_writes_the_call_path_and_state_or_nothing(
    db: Database, clock: FixedClock
) -> None:
    """`save_with_state` (one statement on PostgreSQL, three on SQLite): the call's changed
    columns, its path rows and the state over the version read; from a stale read, False."""
    call_id = await _call_with_state(db, clock)
    async with db.transaction() as session:
        sid = (await session.get(Call, call_id)).sid  # type: ignore[union-attr]

    class Refused(Exception):
        """The save was refused: the transaction rolls back, as the driver's does."""

    async def save(language: str, read_version: int, first_seq: int) -> bool:
        steps = path_rows(
            call_id,
            [("menu", "1", None), ("topic", None, None)],
            first_seq=first_seq,
            now=clock.now(),
        )
        try:
            async with db.transaction() as session:
                record, state = await records.call_and_state(session, sid)
                assert record is not None and state is not None
                record.call.language = language
                values = _values(language, clock)
                if not await records.save_with_state(
                    session, record, steps, values, read_version=read_version
                ):
                    raise Refused()
        except Refused:
            return False
        return True

    assert await save("fr", 3, 0)
    assert not await save("de", 3, 2)  # read at version 3 too, after the first saved
    async with db.transaction() as session:
        row = await state_of(session, call_id)
        call = await session.get(Call, call_id, populate_existing=True)
        count = await session.scalar(
            select(func.count()).select_from(CallStep).where(CallStep.call_id == call_id)
        )
    assert row is not None and call is not None
    assert (row.version, row.state, call.language, count) == (4, {"step": "fr"}, "fr", 2)
