"""Rota calculations on a snapshot that the calculation worker loads itself.

Loading the rules into a snapshot costs as much as the calculation on it (a 184-day ledger
at 1,000 specialists: ~0.3 s of reading and converting rows). Done in the server, it holds
the event loop that serves the webhooks and, on SQLite, the one connection they write
through. So with a worker process (`ROTA_CALC_PROCESSES` >= 1) the worker reads the
snapshot from the database over its own connection, at its lower CPU priority, and the
server only sends the question and receives the answer: `calculate_on_snapshot(session,
start, end, fn, *args)` returns `fn(snapshot, *args)`.

What the worker reads is what is committed when it reads; the request's own transaction is
ended first (its earlier reads saw no less). Without a worker process, or on a database
another process cannot open (an in-memory SQLite), the snapshot is loaded in the request's
session and `fn` runs in a thread, as before: same function, same answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core import calc_pool
from app.core.db import create_engine, end_transaction
from app.rota.repository import Snapshot, load_snapshot

P = ParamSpec("P")
R = TypeVar("R")

# In a worker process: its own event loop and one engine per database URL, kept between
# calculations (connecting again for every call would cost more than some reads).
_loop: asyncio.AbstractEventLoop | None = None
_engines: dict[str, AsyncEngine] = {}


def _worker_loop() -> asyncio.AbstractEventLoop:
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    return _loop


def _engine(url: str) -> AsyncEngine:
    engine = _engines.get(url)
    if engine is None:
        engine = _engines[url] = create_engine(url, pool_size=1)
    return engine


def run_in_worker_session(url: str, work: Callable[[AsyncSession], Any]) -> Any:
    """In the worker: `await work(session)` in one read transaction on the worker's own
    connection to `url` (blocking: the worker runs one calculation at a time)."""

    async def go() -> Any:
        session = AsyncSession(_engine(url), expire_on_commit=False)
        async with session, session.begin():
            return await work(session)

    return _worker_loop().run_until_complete(go())


def _load_and_run(
    url: str,
    start: datetime,
    end: datetime,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    return fn(load_in_worker(url, start, end), *args, **kwargs)


def load_in_worker(url: str, start: datetime, end: datetime) -> Snapshot:
    """In the worker: the snapshot of start..end, read over the worker's own connection."""
    snapshot: Snapshot = run_in_worker_session(
        url, lambda session: load_snapshot(session, start, end)
    )
    return snapshot


def shared_url(bind: AsyncEngine | Any) -> str | None:
    """The database URL a worker process can open itself (of an engine or a session's
    bind), or None to work in-process."""
    if calc_pool.processes() == 0 or not isinstance(bind, AsyncEngine):
        return None
    url = bind.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    return url.render_as_string(hide_password=False)


async def _on_snapshot(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    call: tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]],
    *,
    ending: bool,
) -> Any:
    """`fn(snapshot, ...)`, loaded by a worker where one can open the database; `ending`:
    end the session's transaction first and use the reading lane, else the short lane."""
    fn, args, kwargs = call
    run = calc_pool.calculate_read if ending else calc_pool.calculate
    url = shared_url(session.bind)
    if url is None:
        snapshot = await load_snapshot(session, start, end)
        if ending:
            await end_transaction(session)
        return await run(fn, snapshot, *args, **kwargs)
    if ending:
        await end_transaction(session)
    return await run(_load_and_run, url, start, end, fn, args, kwargs)


async def calculate_on_snapshot(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    fn: Callable[Concatenate[Snapshot, P], R],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> R:
    """`fn(snapshot of start..end, *args, **kwargs)`, the snapshot loaded by a reading worker.

    Ends the session's transaction (commits what it did; its connection goes back) before
    the work starts. `fn` must be a module-level function; its arguments and result pickle.
    """
    result: R = await _on_snapshot(session, start, end, (fn, args, kwargs), ending=True)
    return result


async def calculate_on_committed_snapshot(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    fn: Callable[Concatenate[Snapshot, P], R],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> R:
    """`fn(snapshot, ...)` as `calculate_on_snapshot`, inside a transaction that goes on
    after it (a write, or a console page's): in the writes' lane, which long reads never
    hold up, since the session keeps its connection meanwhile.

    The session's transaction stays open. The worker sees only what is committed, so
    `fn` must add what the transaction changed itself (it gets that in its arguments);
    without a worker the snapshot is loaded in the session, edits included.
    """
    result: R = await _on_snapshot(session, start, end, (fn, args, kwargs), ending=False)
    return result
