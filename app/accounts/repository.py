"""Queries on accounts, phones and notes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.core.driver_sql import Sql, run
from app.models.account import Account, AccountNote, AccountPhone


class AccountBrief(NamedTuple):
    """The columns of an account a call needs."""

    id: int
    name: str
    tier: str
    number: str


def _with_phones() -> Select[Account]:
    return select(Account).options(selectinload(Account.phones))


async def get(session: AsyncSession, account_id: int) -> Account | None:
    """One account with its phones."""
    return await session.scalar(_with_phones().where(Account.id == account_id))


async def by_number(session: AsyncSession, number: str) -> Account | None:
    """The account with a keypad account number."""
    return await session.scalar(_with_phones().where(Account.number == number))


async def number_taken(session: AsyncSession, number: str) -> bool:
    """Whether an account number is in use."""
    return (await session.scalar(select(Account.id).where(Account.number == number))) is not None


async def by_external_ref(session: AsyncSession, refs: Sequence[str]) -> dict[str, Account]:
    """Accounts by CRM reference, for the given references."""
    found: dict[str, Account] = {}
    for i in range(0, len(refs), 500):
        chunk = refs[i : i + 500]
        rows = await session.scalars(_with_phones().where(Account.external_ref.in_(chunk)))
        found.update({a.external_ref: a for a in rows if a.external_ref})
    return found


async def by_phone(session: AsyncSession, e164: str) -> list[Account]:
    """Every account that has this number (a shared number gives several)."""
    query = (
        _with_phones()
        .join(AccountPhone, AccountPhone.account_id == Account.id)
        .where(AccountPhone.e164 == e164)
        .order_by(Account.id)
    )
    return list((await session.scalars(query)).unique().all())


_BRIEF_BY_PHONE = Sql.of(  # caller ID runs it on every call: written once, on the driver
    "SELECT accounts.id, accounts.name, accounts.tier, accounts.number FROM accounts "
    "JOIN account_phones ON account_phones.account_id = accounts.id "
    "WHERE account_phones.e164 = ? ORDER BY accounts.id"
)


async def brief_by_phone(session: AsyncSession, e164: str) -> list[AccountBrief]:
    """Id, name, tier and number of every account with this number: one indexed join.

    What caller ID needs on every call, without loading accounts and their phones.
    """
    found = await run(session, _BRIEF_BY_PHONE, (e164,))
    return [AccountBrief(*row) for row in found.rows]


async def page(
    session: AsyncSession,
    *,
    after_id: int | None,
    limit: int,
    tier: str | None = None,
    language: str | None = None,
    external_ref: str | None = None,
    name_contains: str | None = None,
    phone: str | None = None,
) -> list[Account]:
    """A keyset page of accounts ordered by id, filtered."""
    query = _with_phones().order_by(Account.id).limit(limit)
    if after_id is not None:
        query = query.where(Account.id > after_id)
    if tier:
        query = query.where(Account.tier == tier)
    if language:
        query = query.where(Account.preferred_language == language)
    if external_ref:
        query = query.where(Account.external_ref == external_ref)
    if name_contains:
        # autoescape: % and _ in what the user typed are matched literally, not as wildcards.
        query = query.where(
            func.lower(Account.name).contains(name_contains.lower(), autoescape=True)
        )
    if phone:
        query = query.where(
            Account.id.in_(select(AccountPhone.account_id).where(AccountPhone.e164 == phone))
        )
    return list((await session.scalars(query)).all())


async def notes(session: AsyncSession, account_id: int, *, limit: int = 200) -> list[AccountNote]:
    """An account's notes, newest first."""
    query = (
        select(AccountNote)
        .where(AccountNote.account_id == account_id)
        .order_by(AccountNote.created_at.desc(), AccountNote.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())
