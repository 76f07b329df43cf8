"""An account's history: notes now, calls once the call log records them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository, service
from app.accounts.schemas import AccountHistory, HistoryEntry, NoteOut


async def account_history(session: AsyncSession, account_id: int) -> AccountHistory:
    """The account and its history entries, newest first."""
    account = await service.get(session, account_id)
    entries = [
        HistoryEntry(kind="note", at=n.created_at, note=NoteOut.model_validate(n))
        for n in await repository.notes(session, account_id)
    ]
    entries.sort(key=lambda e: e.at, reverse=True)
    return AccountHistory(account=service.to_out(account), entries=entries)
