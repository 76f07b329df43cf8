"""`within`: the work's result in time; at the deadline, DeadlinePassed at once, even when
the cancelled work takes long to unwind; cancelled itself, it gives the work up too."""

from __future__ import annotations

import asyncio

import pytest

from app.core.deadline import DeadlinePassed, settle_abandoned, within


async def test_the_result_and_the_error_of_work_done_in_time() -> None:
    async def answer() -> str:
        await asyncio.sleep(0)
        return "answered"

    async def fail() -> None:
        raise LookupError("no such call")

    assert await within(1.0, answer()) == "answered"
    with pytest.raises(LookupError, match="no such call"):
        await within(1.0, fail())


async def test_the_deadline_holds_while_the_work_unwinds_slowly() -> None:
    unwound = asyncio.Event()

    async def hangs() -> None:
        try:
            await asyncio.sleep(60)
        finally:
            await asyncio.shield(asyncio.sleep(0.3))  # a rollback on a frozen database
            unwound.set()

    with pytest.raises(DeadlinePassed, match=r"the probe took longer than 0\.05 s"):
        await within(0.05, hangs(), what="the probe")
    assert not unwound.is_set()  # given up on at the deadline, not after the unwinding
    await settle_abandoned()
    assert unwound.is_set()


async def test_cancelled_it_gives_the_work_up() -> None:
    cancelled = asyncio.Event()

    async def work() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    waiting = asyncio.ensure_future(within(30.0, work()))
    await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await settle_abandoned()
    assert cancelled.is_set()
