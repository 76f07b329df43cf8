"""Deadlines that hold even when cancelling the late work would itself hang.

`asyncio.timeout` cancels the work and then waits for it to unwind: a transaction rolling
back on a frozen PostgreSQL, or a pooled connection being closed, can keep that unwinding
waiting for many seconds, and the deadline with it (a voice webhook promised 8 s answered
after 10). `within` gives up on the work at the deadline, cancels it, and returns at once;
the cancelled work unwinds in the background and only its failure is logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

logger = logging.getLogger("switchboard.deadline")
T = TypeVar("T")
_unwinding: set[asyncio.Task[Any]] = set()


class DeadlinePassed(TimeoutError):
    """The work did not finish within its deadline (it was cancelled)."""


async def within(seconds: float, work: Awaitable[T], *, what: str = "work") -> T:
    """The result of `work` if it finishes within `seconds`, else DeadlinePassed.

    What `asyncio.wait({task}, timeout=seconds)` does, without its sets and extra callbacks
    (it runs on every webhook): one future woken by the task's end or by the timer.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(work)
    woken: asyncio.Future[None] = loop.create_future()

    def wake(_: object = None) -> None:
        if not woken.done():
            woken.set_result(None)

    task.add_done_callback(wake)
    timer = loop.call_later(seconds, wake)
    try:
        await woken
    except asyncio.CancelledError:
        _abandon(task)
        raise
    finally:
        timer.cancel()
        task.remove_done_callback(wake)
    if task.done():
        return task.result()
    _abandon(task)
    raise DeadlinePassed(f"{what} took longer than {seconds:g} s")


def _abandon(task: asyncio.Task[Any]) -> None:
    task.cancel()
    _unwinding.add(task)  # keep a reference until it has unwound
    task.add_done_callback(_unwound)


def _unwound(task: asyncio.Task[Any]) -> None:
    _unwinding.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.warning("work given up at its deadline failed while unwinding: %r", task.exception())


async def settle_abandoned() -> None:
    """Wait for work given up at a deadline to finish unwinding (at shutdown)."""
    if _unwinding:
        await asyncio.wait(set(_unwinding), timeout=5)
