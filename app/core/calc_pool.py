"""CPU-heavy pure calculations (the rota calculator's) in a worker process, off the GIL.

A calculation of seconds run in a thread of the server holds the GIL against the event
loop: every webhook's I/O then waits for the interpreter's switch interval. Run in a
separate process at a lower CPU priority (`os.nice`), it leaves the server's interpreter
to the webhooks, and the operating system gives them the CPU first.

`configure(processes)` at start-up (the app's lifespan, `ROTA_CALC_PROCESSES`; `close()` at
its end), then `await calculate(fn, *args, **kwargs)`: `fn` must be a module-level function and its
arguments and result must pickle. With 0 processes (or before `configure`), it runs in a
thread as `asyncio.to_thread` would. The pool starts on the first calculation (its worker
imports what the function needs, about a second) and `shutdown()` or `close()` ends it. Workers are
started with "spawn" (or "forkserver"), never by forking a process that runs an event loop
and threads. An exception raised by `fn` in the worker is raised again here, same type.
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

# How much lower the workers' CPU priority is than the server's (nice increment).
WORKER_NICENESS = 10
START_METHOD = "spawn"

_lock = threading.Lock()
_processes = 0
_niceness = WORKER_NICENESS
_executor: ProcessPoolExecutor | None = None


def _lower_priority(niceness: int) -> None:
    """Worker initializer: let the server (webhooks) have the CPU first."""
    if niceness:
        with contextlib.suppress(OSError):
            os.nice(niceness)


def configure(processes: int, *, niceness: int = WORKER_NICENESS) -> None:
    """Use `processes` worker processes from now on (0: a thread); ends any pool running."""
    global _processes, _niceness
    shutdown()
    with _lock:
        _processes = max(0, processes)
        _niceness = niceness


def processes() -> int:
    """The configured number of worker processes (0: calculations run in a thread)."""
    return _processes


def _pool() -> ProcessPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ProcessPoolExecutor(
                max_workers=_processes,
                mp_context=multiprocessing.get_context(START_METHOD),
                initializer=_lower_priority,
                initargs=(_niceness,),
            )
        return _executor


def _discard(broken: ProcessPoolExecutor) -> None:
    global _executor
    with _lock:
        if _executor is broken:
            _executor = None
    broken.shutdown(wait=False, cancel_futures=True)


def shutdown() -> None:
    """End the worker processes (waits for running calculations); the next call starts anew."""
    global _executor
    with _lock:
        executor, _executor = _executor, None
    if executor is not None:
        executor.shutdown(wait=True, cancel_futures=True)


def close() -> None:
    """End the worker processes and go back to calculating in a thread (the app's exit)."""
    global _processes
    shutdown()
    _processes = 0


async def calculate(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """`fn(*args, **kwargs)` in a worker process (or a thread with 0 processes)."""
    if _processes == 0:
        return await asyncio.to_thread(fn, *args, **kwargs)
    call = functools.partial(fn, *args, **kwargs)
    loop = asyncio.get_running_loop()
    for attempt in (1, 2):
        executor = _pool()
        try:
            return await loop.run_in_executor(executor, call)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): start a new pool and try once more.
            _discard(executor)
            if attempt == 2:
                raise
            logger.warning("a calculation worker died; starting a new one")
    raise AssertionError("unreachable")
