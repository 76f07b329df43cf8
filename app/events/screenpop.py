"""The screen pop: who is calling the specialist being rung, read when the ring is pushed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.account import Account, AccountNote
from app.models.call import Call, CallStep
from app.models.console import CallWrapUp
from app.models.rota import Specialist

RECENT_CALLS = 5
LATEST_NOTES = 3


async def screen_pop(session: AsyncSession, call_id: int, *, now: datetime) -> dict[str, Any]:
    """Caller, account, tier, language, topic, IVR path, wait, recent calls and notes."""
    call = await session.get(Call, call_id)
    if call is None:
        return {"call_id": call_id, "gone": True}
    account = await session.get(Account, call.account_id) if call.account_id else None
    path = [
        {"step": step, "input": given}
        for step, given in await session.execute(
            select(CallStep.step, CallStep.input)
            .where(CallStep.call_id == call_id)
            .order_by(CallStep.seq)
        )
    ]
    waiting_since = call.routed_at or call.started_at
    pop: dict[str, Any] = {
        "call_id": call.id,
        "call_sid": call.sid,
        "from": call.from_number,
        "team": call.team,
        "language": call.language,
        "topic": call.topic,
        "tier": account.tier if account else "unknown",
        "account": None,
        "path": path,
        "waiting_seconds": max(0, round((now - waiting_since).total_seconds())),
        "recent_calls": [],
        "notes": [],
    }
    if account is None:
        return pop
    pop["account"] = {
        "id": account.id,
        "name": account.name,
        "number": account.number,
        "tier": account.tier,
        "language": account.preferred_language,
        "external_ref": account.external_ref,
    }
    recent = await session.execute(
        select(Call, Specialist.name, CallWrapUp.disposition)
        .outerjoin(Specialist, Specialist.id == Call.answered_by_id)
        .outerjoin(CallWrapUp, CallWrapUp.call_id == Call.id)
        .where(Call.account_id == account.id, Call.id != call.id)
        .order_by(Call.started_at.desc(), Call.id.desc())
        .limit(RECENT_CALLS)
    )
    pop["recent_calls"] = [
        {
            "started_at": earlier.started_at.isoformat(),
            "outcome": earlier.outcome,
            "handled_by": name,
            "disposition": disposition,
            "topic": earlier.topic,
        }
        for earlier, name, disposition in recent.all()
    ]
    notes = await session.scalars(
        select(AccountNote)
        .where(AccountNote.account_id == account.id)
        .order_by(AccountNote.created_at.desc(), AccountNote.id.desc())
        .limit(LATEST_NOTES)
    )
    pop["notes"] = [
        {"at": n.created_at.isoformat(), "author": n.author, "body": n.body} for n in notes
    ]
    return pop
