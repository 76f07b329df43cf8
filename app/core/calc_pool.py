"""CPU-heavy pure calculations (the rota calculator's) in worker processes, off the GIL.

A calculation of seconds run in a thread of the server holds the GIL against the event
loop: every webhook's I/O then waits for the interpreter's switch interval. Run in a
separate process that the operating system schedules only when the server leaves the CPU
idle (`SCHED_IDLE`; where that is refused, the lowest `nice`), it leaves the server's
interpreter and its CPU to the webhooks.

Two lanes, so that an edit never queues behind long reads:
- `calculate(fn, *args)`: the work of rota writes (their checks, previews and the stored
  shifts' refresh) and every calculation made while its caller keeps a transaction open
  (console pages), in one process of its own: a held connection never waits in a queue;
- `calculate_read(fn, *args)`: long queries after their transaction has ended (ledgers,
  schedules, gaps, fairness, days off, calendar feeds), in `processes` processes.

`configure(processes)` at start-up (the app's lifespan, `ROTA_CALC_PROCESSES`; `close()` at
its end). `fn` must be a module-level function and its arguments and result must pickle.
With 0 processes (or before `configure`), both run in a thread as `asyncio.to_thread`
would. A lane's pool starts on its first calculation (its worker imports what the function
needs, about a second) and `shutdown()` or `close()` ends them. Workers are started with
"spawn", never by forking a process that runs an event loop and threads. An exception
raised by `fn` in the worker is raised again here, same type.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

logger = logging.getLogger("switchboard.calc")

P = ParamSpec("P")
R = TypeVar("R")

# Where SCHED_IDLE is refused: how much lower the workers' priority is (nice increment).
WORKER_NICENESS = 19
START_METHOD = "spawn"
WRITES, READS = "writes", "reads"

_lock = threading.Lock()
_processes = 0
_idle = True
_executors: dict[str, ProcessPoolExecutor] = {}


def _lower_priority(idle: bool) -> None:
    """Worker initializer: let the server (webhooks) have the CPU first."""
    if not idle:
        return
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        with contextlib.suppress(OSError):
            os.nice(WORKER_NICENESS)


def configure(processes: int, *, idle: bool = True) -> None:
    """Use `processes` reading processes (and one for writes) from now on (0: a thread).

    Ends any pool running. `idle=False` keeps the workers at the server's priority.
    """
    global _processes, _idle
    shutdown()
    with _lock:
        _processes = max(0, processes)
        _idle = idle


def processes() -> int:
    """The configured number of reading processes (0: calculations run in a thread)."""
    return _processes


def _workers(lane: str) -> int:
    return _processes if lane == READS else 1


def warm_up() -> None:
    """Start every lane's workers now (in the background), so that the first calculations
    after start-up do not wait for them to start (about a second each)."""
    if _processes == 0:
        return
    for lane in (WRITES, READS):
        pool = _pool(lane)
        for _ in range(_workers(lane)):
            pool.submit(os.getpid)


def executor(lane: str) -> ProcessPoolExecutor | None:
    """The lane's running pool, if it started (for tests and diagnostics)."""
    return _executors.get(lane)


def _pool(lane: str) -> ProcessPoolExecutor:
    with _lock:
        pool = _executors.get(lane)
        if pool is None:
            pool = _executors[lane] = ProcessPoolExecutor(
                max_workers=_workers(lane),
                mp_context=multiprocessing.get_context(START_METHOD),
                initializer=_lower_priority,
                initargs=(_idle,),
            )
        return pool


def _discard(lane: str, broken: ProcessPoolExecutor) -> None:
    with _lock:
        if _executors.get(lane) is broken:
            del _executors[lane]
    broken.shutdown(wait=False, cancel_futures=True)


def shutdown() -> None:
    """End the worker processes (waits for running calculations); the next call starts anew."""
    with _lock:
        pools = list(_executors.values())
        _executors.clear()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


def close() -> None:
    """End the worker processes and go back to calculating in a thread (the app's exit)."""
    global _processes
    shutdown()
    _processes = 0


async def _run(lane: str, call: Callable[[], R]) -> R:
    if _processes == 0:
        return await asyncio.to_thread(call)
    loop = asyncio.get_running_loop()
    for attempt in (1, 2):
        pool = _pool(lane)
        try:
            return await loop.run_in_executor(pool, call)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): start a new pool and try once more.
            _discard(lane, pool)
            if attempt == 2:
                raise
            logger.warning("a calculation worker died; starting a new one")
    raise AssertionError("unreachable")


async def calculate(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """`fn(*args, **kwargs)` in the writes' worker process (or a thread with 0 processes)."""
    return await _run(WRITES, functools.partial(fn, *args, **kwargs))


async def calculate_read(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """`fn(*args, **kwargs)` in a reading worker process (or a thread with 0 processes)."""
    return await _run(READS, functools.partial(fn, *args, **kwargs))
