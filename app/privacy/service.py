"""Erasure of a caller, and the retention run that scrubs old call details."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts
from app.auth.service import Principal
from app.core.errors import NotFound
from app.models.account import Account, AccountNote, AccountPhone
from app.privacy import scrub
from app.rota import audit


@dataclass(frozen=True)
class Erasure:
    """What an erasure removed and scrubbed (counts only: nothing personal)."""

    accounts: list[int]
    phones: int
    notes: int
    calls_scrubbed: int


async def _erase_one(
    session: AsyncSession, account: Account, now: datetime
) -> tuple[int, int, int]:
    phones = list(
        await session.scalars(
            select(AccountPhone.e164).where(AccountPhone.account_id == account.id)
        )
    )
    notes = len(
        list(
            await session.scalars(
                select(AccountNote.id).where(AccountNote.account_id == account.id)
            )
        )
    )
    call_ids = await scrub.calls_of_account(session, account.id)
    # Calls from the account's numbers that were never linked to it, unless another account
    # still has the number (then it is not this caller's alone).
    own_numbers = [n for n in phones if len(await accounts.by_phone(session, n)) == 1]
    call_ids += await scrub.unlinked_calls_from(session, own_numbers)
    scrubbed = await scrub.scrub_calls(session, sorted(set(call_ids)), now)
    await session.delete(account)  # phones and notes go with it; calls keep their figures
    await session.flush()
    return len(phones), notes, scrubbed


async def _audit(
    session: AsyncSession, principal: Principal, now: datetime, what: str, erasure: Erasure
) -> None:
    await audit.record(
        session,
        principal=principal,
        at=now,
        action="erase",
        resource_type="account",
        resource_id=what,
        before=None,
        after={
            "accounts": erasure.accounts,
            "phones_removed": erasure.phones,
            "notes_removed": erasure.notes,
            "calls_scrubbed": erasure.calls_scrubbed,
        },
    )


async def erase_account(
    session: AsyncSession, account_id: int, principal: Principal, now: datetime
) -> Erasure:
    """Remove an account, its phones and notes; scrub its calls; audit it."""
    account = await accounts.get(session, account_id)
    if account is None:
        raise NotFound(f"account {account_id} does not exist")
    phones, notes, scrubbed = await _erase_one(session, account, now)
    erasure = Erasure([account_id], phones, notes, scrubbed)
    await _audit(session, principal, now, str(account_id), erasure)
    return erasure


async def erase_phone(
    session: AsyncSession, e164: str, principal: Principal, now: datetime
) -> Erasure:
    """Erase every account with this number, and scrub every call from it."""
    found = await accounts.by_phone(session, e164)
    phones = notes = scrubbed = 0
    for account in found:
        p, n, s = await _erase_one(session, account, now)
        phones, notes, scrubbed = phones + p, notes + n, scrubbed + s
    rest = await scrub.calls_from(session, [e164])
    scrubbed += await scrub.scrub_calls(session, rest, now)
    erasure = Erasure([a.id for a in found], phones, notes, scrubbed)
    # The audit entry names the accounts, never the number.
    await _audit(session, principal, now, ",".join(map(str, erasure.accounts)) or "-", erasure)
    return erasure


async def purge_old_details(
    session: AsyncSession, retention_days: int, now: datetime, *, limit: int = 10_000
) -> int:
    """Scrub the details of calls older than the retention; returns how many calls."""
    ids = await scrub.older_unscrubbed(session, now - timedelta(days=retention_days), limit)
    return await scrub.scrub_calls(session, ids, now)
