"""A call that ended: everyone reserved for or talking on it freed, its queue entry left.

Every call's final status callback ends here (`records.save_ended`, which on PostgreSQL
adds the call's own UPDATE to this statement), as does an action webhook that Twilio posts
after the caller hung up (`telephony.driver.call_ended`). On PostgreSQL it is one
statement: both presence releases, leaving the queue and their console events, as
data-modifying CTEs, where it took three to five round trips. On SQLite, where a statement
costs no round trip, it is `presence.release_call` and `queue.leave_call`, which write the
same rows and events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    func,
    insert,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.core.driver_sql import Compiled, flush_pending, is_sqlite, run_core
from app.models.console import ConsoleEvent
from app.routing import presence
from app.routing import queue as queues


def ending_postgresql() -> Select[Any]:
    """PostgreSQL: the statement `end_call` runs (params :call, :at, :result); its rows are
    the ids of the queue entries it left."""
    at = bindparam("at", type_=ConsoleEvent.at.type)
    call = bindparam("call", type_=Integer)
    busy = presence.RELEASE_CALL["busy"].cte("freed_busy")
    ringing = presence.RELEASE_CALL["ringing"].cte("freed_ringing")
    left = queues.LEAVE_CALL.cte("left_queue")
    no_team = cast(null(), String)

    def ring_ended(freed: Any, talked: str) -> Select[Any]:
        data = cast(literal_column(f"'{{\"talked\": {talked}}}'"), JSON)
        kind: ColumnElement[str] = literal_column("'ring_ended'")
        return select(at, kind, freed.c.specialist_id, no_team, call, data)

    queue_data = func.json_build_object(
        literal_column("'change'"),
        literal_column("'left'"),
        literal_column("'result'"),
        cast(bindparam("result"), String),
    )
    rows = union_all(
        ring_ended(busy, "true"),
        ring_ended(ringing, "false"),
        select(at, literal_column("'queue'"), cast(null(), Integer), left.c.team, call, queue_data),
    )
    columns = ["at", "kind", "specialist_id", "team", "call_id", "data"]
    events = insert(ConsoleEvent).from_select(columns, rows).cte("ending_events")
    return select(left.c.id).add_cte(events)


_ENDING_POSTGRESQL = Compiled(ending_postgresql())


async def end_call(session: AsyncSession, call_id: int, result: str, *, now: datetime) -> None:
    """Free everyone reserved for or talking on the call (those who talked idle from now)
    and take it out of its queue with `result`, with the console events of both."""
    if is_sqlite(session):
        await presence.release_call(session, call_id, now=now)
        await queues.leave_call(session, call_id, result, now=now)
        return
    await end_call_postgresql(session, _ENDING_POSTGRESQL, {"call": call_id}, result, now=now)


async def end_call_postgresql(
    session: AsyncSession,
    statement: Compiled,
    params: dict[str, Any],
    result: str,
    *,
    now: datetime,
) -> None:
    """PostgreSQL: run `ending_postgresql()` (or a statement that adds to it, as
    `records.save_ended` does) for the call :call, with :at and :result from here."""
    await flush_pending(session)  # rows the session changed are written (and locked) first
    left = await run_core(session, statement, {**params, "at": now, "result": result})
    for (entry_id,) in left.rows:
        queues.left_in_session(session, entry_id, result, now=now)
