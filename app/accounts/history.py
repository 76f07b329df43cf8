"""An account's history: its calls and the notes specialists added, newest first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository, service
from app.accounts.schemas import AccountHistory, HistoryEntry, NoteOut
from app.calls import repository as calls
from app.calls.schemas import voicemail_of
from app.models.call import Call
from app.models.rota import Specialist


def _call_entry(call: Call, names: dict[int, str]) -> dict[str, Any]:
    handler = call.answered_by_id
    voicemail = voicemail_of(call)
    return {
        "sid": call.sid,
        "outcome": call.outcome,
        "status": call.status,
        "handled_by": None
        if handler is None
        else {"specialist_id": handler, "name": names.get(handler)},
        "duration": call.duration,
        "voicemail": None if voicemail is None else voicemail.model_dump(),
        "language": call.language,
        "topic": call.topic,
        "team": call.team,
        "started_at": call.started_at.isoformat(),
    }


async def account_history(session: AsyncSession, account_id: int) -> AccountHistory:
    """The account and its history entries (calls and notes), newest first."""
    account = await service.get(session, account_id)
    entries = [
        HistoryEntry(kind="note", at=n.created_at, note=NoteOut.model_validate(n))
        for n in await repository.notes(session, account_id)
    ]
    account_calls = await calls.for_account(session, account_id)
    handler_ids = {c.answered_by_id for c in account_calls if c.answered_by_id is not None}
    names: dict[int, str] = {}
    if handler_ids:
        rows = await session.execute(
            select(Specialist.id, Specialist.name).where(Specialist.id.in_(handler_ids))
        )
        names = {row.id: row.name for row in rows}
    entries += [
        HistoryEntry(kind="call", at=c.started_at, call=_call_entry(c, names))
        for c in account_calls
    ]
    entries.sort(key=lambda e: e.at, reverse=True)
    return AccountHistory(account=service.to_out(account), entries=entries)
