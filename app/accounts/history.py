"""An account's history: its calls (with their work items) and notes, newest first."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository, service
from app.accounts.schemas import (
    AccountHistory,
    ClaimedBy,
    HandledBy,
    HistoryCall,
    HistoryEntry,
    HistoryVoicemail,
    HistoryWorkItem,
    NoteOut,
)
from app.calls import repository as calls
from app.models.call import Call
from app.models.console import CallWrapUp
from app.models.rota import Specialist
from app.models.routing import WorkItem


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds()))


def wait_seconds(call: Call) -> int | None:
    """How long the caller waited for a specialist: from routing to the answer, or to the
    end of the call when nobody answered; None when the call was never routed."""
    if call.routed_at is None:
        return None
    return _seconds(call.routed_at, call.answered_at or call.ended_at)


def talk_seconds(call: Call) -> int | None:
    """How long the caller talked with a specialist: from the answer to the end."""
    return _seconds(call.answered_at, call.ended_at)


def _work_item(item: WorkItem, names: dict[int, str]) -> HistoryWorkItem:
    claimer = item.claimed_by_id
    return HistoryWorkItem(
        id=item.id,
        kind=item.kind,
        status=item.status,
        outcome=item.outcome,
        claimed_by=None if claimer is None else ClaimedBy(id=claimer, name=names.get(claimer)),
        completed_at=item.completed_at,
    )


def _call_entry(call: Call, items: list[WorkItem], names: dict[int, str]) -> HistoryCall:
    handler = call.answered_by_id
    return HistoryCall(
        sid=call.sid,
        started_at=call.started_at,
        outcome=call.outcome,
        status=call.status,
        handled_by=None
        if handler is None
        else HandledBy(specialist_id=handler, name=names.get(handler)),
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        duration=call.duration,
        wait_seconds=wait_seconds(call),
        talk_seconds=talk_seconds(call),
        voicemail=None
        if not call.voicemail_url
        else HistoryVoicemail(
            url=call.voicemail_url,
            duration=call.voicemail_duration,
            transcription=call.voicemail_transcription,
        ),
        callback_number=call.callback_number or None,
        language=call.language,
        topic=call.topic,
        team=call.team,
        work_items=[_work_item(i, names) for i in items],
    )


async def _work_items(session: AsyncSession, call_ids: list[int]) -> dict[int, list[WorkItem]]:
    by_call: dict[int, list[WorkItem]] = defaultdict(list)
    if call_ids:
        query = select(WorkItem).where(WorkItem.call_id.in_(call_ids)).order_by(WorkItem.id)
        for item in await session.scalars(query):
            by_call[item.call_id].append(item)
    return by_call


async def _dispositions(session: AsyncSession, call_ids: list[int]) -> dict[int, str]:
    if not call_ids:
        return {}
    rows = await session.execute(
        select(CallWrapUp.call_id, CallWrapUp.disposition).where(CallWrapUp.call_id.in_(call_ids))
    )
    return {call_id: code for call_id, code in rows.all()}


async def _names(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(
        select(Specialist.id, Specialist.name).where(Specialist.id.in_(wanted))
    )
    return {row.id: row.name for row in rows}


async def account_history(session: AsyncSession, account_id: int) -> AccountHistory:
    """The account and its history entries (calls and notes), newest first."""
    account = await service.get(session, account_id)
    entries = [
        HistoryEntry(kind="note", at=n.created_at, note=NoteOut.model_validate(n))
        for n in await repository.notes(session, account_id)
    ]
    account_calls = await calls.for_account(session, account_id)
    items = await _work_items(session, [c.id for c in account_calls])
    names = await _names(
        session,
        [c.answered_by_id for c in account_calls]
        + [i.claimed_by_id for found in items.values() for i in found],
    )
    codes = await _dispositions(session, [c.id for c in account_calls])
    entries += [
        HistoryEntry(
            kind="call",
            at=c.started_at,
            call=_call_entry(c, items[c.id], names).model_copy(
                update={"disposition": codes.get(c.id)}
            ),
        )
        for c in account_calls
    ]
    entries.sort(key=lambda e: e.at, reverse=True)
    return AccountHistory(account=service.to_out(account), entries=entries)
