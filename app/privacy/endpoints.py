"""`POST /v1/accounts/{id}:erase`: erase a caller (SPEC 12)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.auth.deps import AccountWriter
from app.core.deps import ClockDep, DbSession
from app.core.types import DbId
from app.privacy import service

router = APIRouter(prefix="/v1", tags=["privacy"])


class ErasureOut(BaseModel):
    """What was removed and scrubbed."""

    accounts: list[int] = Field(description="the accounts removed")
    phones_removed: int
    notes_removed: int
    calls_scrubbed: int = Field(description="calls whose personal details were scrubbed")


@router.post("/accounts/{account_id}:erase", response_model=ErasureOut)
async def erase_account(
    account_id: DbId, session: DbSession, principal: AccountWriter, clock: ClockDep
) -> ErasureOut:
    """Remove the account, its phones and notes, and scrub its calls (numbers, recordings,
    transcripts, work-item notes); the calls' anonymous figures stay in reports. Audited."""
    erasure = await service.erase_account(session, account_id, principal, clock.now())
    return ErasureOut(
        accounts=erasure.accounts,
        phones_removed=erasure.phones,
        notes_removed=erasure.notes,
        calls_scrubbed=erasure.calls_scrubbed,
    )
