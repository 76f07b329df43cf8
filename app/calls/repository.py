"""Queries on the call log: calls, their IVR state, path, status events and ringing attempts."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Integer, Select, String, Table, bindparam, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.core.driver_sql import Compiled, run_core
from app.models.call import Call, CallStateRow, CallStatusEvent, RingAttempt
from app.models.console import CallWrapUp


async def by_sid(session: AsyncSession, sid: str, *, lock: bool = False) -> Call | None:
    """The call with a CallSid; `lock` takes a row lock on PostgreSQL until commit."""
    query = select(Call).where(Call.sid == sid)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def state_of(session: AsyncSession, call_id: int) -> CallStateRow | None:
    """The stored IVR state of a call (None before its first voice webhook)."""
    return await session.scalar(
        select(CallStateRow)
        .where(CallStateRow.call_id == call_id)
        .execution_options(populate_existing=True)
    )


_HAS_EVENT = (
    select(CallStatusEvent.id)
    .where(
        CallStatusEvent.call_id == bindparam("call_id"),
        CallStatusEvent.status == bindparam("status"),
        CallStatusEvent.sequence.is_not_distinct_from(bindparam("sequence", type_=Integer)),
    )
    .limit(1)
)


_EVENTS = cast(Table, CallStatusEvent.__table__)
_EVENT = _EVENTS.c
_RECORD_EVENT = (
    insert(_EVENTS)
    .from_select(
        ["call_id", "status", "sequence", "at", "received_at"],
        select(
            bindparam("call_id", type_=Integer),
            bindparam("status", type_=String),
            bindparam("sequence", type_=Integer),
            bindparam("at", type_=_EVENT.at.type),
            bindparam("received_at", type_=_EVENT.received_at.type),
        ).where(~exists(_HAS_EVENT)),
    )
    .returning(_EVENT.id)
)

_RECORD_EVENT_ON_DRIVER = Compiled(_RECORD_EVENT)  # every status callback runs it


async def record_event(
    session: AsyncSession,
    call_id: int,
    status: str,
    sequence: int | None,
    *,
    at: datetime,
    received_at: datetime,
) -> bool:
    """Add a status event unless the call already has it; False for a repeated callback.

    One statement. Two callbacks of one call are serialised by the call's row lock
    (`records.call_by_sid`), and the unique constraint backs it up.
    """
    params = {
        "call_id": call_id,
        "status": status,
        "sequence": sequence,
        "at": at,
        "received_at": received_at,
    }
    return bool((await run_core(session, _RECORD_EVENT_ON_DRIVER, params)).rows)


async def has_event(session: AsyncSession, call_id: int, status: str, sequence: int | None) -> bool:
    """Whether the call already has this status event (a repeated callback)."""
    params = {"call_id": call_id, "status": status, "sequence": sequence}
    return (await session.scalar(_HAS_EVENT, params)) is not None


async def attempts_of(session: AsyncSession, call_id: int) -> list[RingAttempt]:
    """A call's ringing attempts in the order they were rung."""
    query = select(RingAttempt).where(RingAttempt.call_id == call_id).order_by(RingAttempt.id)
    return list((await session.scalars(query)).all())


async def attempt(session: AsyncSession, attempt_id: int) -> RingAttempt | None:
    """One ringing attempt."""
    return await session.get(RingAttempt, attempt_id)


_ATTEMPT_OF_CALL = (
    select(RingAttempt, Call)
    .join(Call, Call.id == RingAttempt.call_id)
    .where(RingAttempt.id == bindparam("attempt_id"), Call.sid == bindparam("sid"))
)


async def attempt_of_call(
    session: AsyncSession, attempt_id: int, sid: str
) -> tuple[RingAttempt, Call] | None:
    """A ringing attempt with its call, in one statement; None unless it is that call's."""
    found = (
        await session.execute(_ATTEMPT_OF_CALL, {"attempt_id": attempt_id, "sid": sid})
    ).first()
    return (found[0], found[1]) if found is not None else None


async def call_by_id(session: AsyncSession, call_id: int) -> Call | None:
    """A call by its id."""
    return await session.get(Call, call_id)


def _detailed() -> Select[Call]:
    return select(Call).options(
        selectinload(Call.steps), selectinload(Call.events), selectinload(Call.attempts)
    )


async def detail(session: AsyncSession, sid: str) -> Call | None:
    """A call with its path, status events and attempts loaded."""
    return await session.scalar(_detailed().where(Call.sid == sid))


async def page(
    session: AsyncSession,
    *,
    before_id: int | None,
    limit: int,
    start: datetime | None = None,
    end: datetime | None = None,
    account_id: int | None = None,
    specialist_id: int | None = None,
    status: str | None = None,
    outcome: str | None = None,
    team: str | None = None,
    disposition: str | None = None,
) -> list[Call]:
    """A keyset page of calls, newest first, filtered."""
    query = select(Call).order_by(Call.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(Call.id < before_id)
    if start is not None:
        query = query.where(Call.started_at >= start)
    if end is not None:
        query = query.where(Call.started_at < end)
    if account_id is not None:
        query = query.where(Call.account_id == account_id)
    if specialist_id is not None:
        query = query.where(Call.answered_by_id == specialist_id)
    if status:
        query = query.where(Call.status == status)
    if outcome:
        query = query.where(Call.outcome == outcome)
    if team:
        query = query.where(Call.team == team)
    if disposition:
        coded = select(CallWrapUp.call_id).where(CallWrapUp.disposition == disposition)
        query = query.where(Call.id.in_(coded))
    return list((await session.scalars(query)).all())


async def for_account(session: AsyncSession, account_id: int, *, limit: int = 200) -> list[Call]:
    """An account's calls, newest first."""
    query = (
        select(Call)
        .where(Call.account_id == account_id)
        .order_by(Call.started_at.desc(), Call.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def earlier_calls(session: AsyncSession, account_id: int, before_id: int) -> list[Call]:
    """The account's calls before a given one, newest first (at most 50)."""
    query = (
        select(Call)
        .where(Call.account_id == account_id, Call.id < before_id)
        .order_by(Call.id.desc())
        .limit(50)
    )
    return list((await session.scalars(query)).all())
