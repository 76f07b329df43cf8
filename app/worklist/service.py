"""Opening work items from the call path (idempotent: one item per call and kind)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.call import Call
from app.models.routing import WorkItem

WorkKind = Literal["voicemail", "callback"]


async def open_item(
    session: AsyncSession, call: Call, kind: WorkKind, *, now: datetime
) -> WorkItem:
    """The call's open item of this kind, created when it has none (a repeat is harmless)."""
    if call.id is None:
        await session.flush()
    found = await session.scalar(
        select(WorkItem).where(WorkItem.call_id == call.id, WorkItem.kind == kind)
    )
    number = (call.callback_number if kind == "callback" else None) or call.from_number or None
    if found is not None:
        if kind == "callback" and number and found.status == "open":
            found.number = number[:64]
        found.account_id = found.account_id or call.account_id
        return found
    item = WorkItem(
        kind=kind,
        call_id=call.id,
        account_id=call.account_id,
        team=call.team,
        language=call.language,
        number=number[:64] if number else None,
        status="open",
        created_at=now,
        updated_at=now,
    )
    session.add(item)
    return item
