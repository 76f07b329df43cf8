"""After the call: the admin's list of dispositions, and a specialist's wrap-up of a call
(a disposition on the call and, optionally, a note on its account)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.schemas import NoteCreate
from app.accounts.service import add_note
from app.auth.service import Principal
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.models.account import AccountNote
from app.models.call import Call, RingAttempt
from app.models.console import CallWrapUp, Disposition

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def check_code(code: str) -> str:
    """A disposition code: lower-case letters, digits, - and _ (at most 40)."""
    if not CODE.match(code):
        raise ValidationFailed(
            f"{code!r} is not a disposition code",
            errors=[
                {
                    "field": "body.code",
                    "message": "lower-case letters, digits, '-' and '_', at most 40",
                }
            ],
        )
    return code


async def listed(session: AsyncSession, *, include_inactive: bool) -> list[Disposition]:
    """The dispositions in the admin's order."""
    query = select(Disposition).order_by(Disposition.position, Disposition.code)
    if not include_inactive:
        query = query.where(Disposition.active)
    return list(await session.scalars(query))


async def by_code(session: AsyncSession, code: str) -> Disposition:
    """One disposition; 404 when there is none."""
    found = await session.scalar(select(Disposition).where(Disposition.code == code))
    if found is None:
        raise NotFound(f"disposition {code!r} does not exist")
    return found


async def create(
    session: AsyncSession, *, code: str, label: str, position: int, now: datetime
) -> Disposition:
    """Add a disposition to the list."""
    row = Disposition(
        code=check_code(code),
        label=label,
        active=True,
        position=position,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"disposition {code!r} already exists") from None
    return row


async def update(
    session: AsyncSession,
    code: str,
    *,
    label: str | None,
    active: bool | None,
    position: int | None,
    now: datetime,
) -> Disposition:
    """Rename, reorder, retire or bring back a disposition (calls keep their code)."""
    row = await by_code(session, code)
    if label is not None:
        row.label = label
    if active is not None:
        row.active = active
    if position is not None:
        row.position = position
    row.updated_at = now
    await session.flush()
    return row


async def _may_wrap_up(session: AsyncSession, principal: Principal, call: Call) -> None:
    """An admin, or a specialist who answered the call or was rung for it."""
    if principal.role == "admin":
        return
    sid = principal.specialist_id
    if principal.role != "specialist" or sid is None:
        raise Forbidden("only the specialist who took the call, or an admin, may wrap it up")
    if call.answered_by_id == sid:
        return
    rung = await session.scalar(
        select(RingAttempt.id).where(
            RingAttempt.call_id == call.id, RingAttempt.specialist_id == sid
        )
    )
    if rung is None:
        raise Forbidden("you were not rung for this call")


async def wrap_up(
    session: AsyncSession,
    principal: Principal,
    call_sid: str,
    *,
    disposition: str,
    note: str | None,
    now: datetime,
) -> tuple[CallWrapUp, AccountNote | None]:
    """Put a disposition on the call (replacing an earlier one) and a note on its account."""
    call = await session.scalar(select(Call).where(Call.sid == call_sid))
    if call is None:
        raise NotFound(f"call {call_sid} does not exist")
    await _may_wrap_up(session, principal, call)
    code = await by_code(session, disposition)
    if not code.active:
        raise ValidationFailed(
            f"disposition {disposition!r} is retired",
            errors=[{"field": "body.disposition", "message": "retired; pick an active one"}],
        )
    written: AccountNote | None = None
    if note:
        if call.account_id is None:
            raise ValidationFailed(
                "the caller has no account to put the note on",
                errors=[{"field": "body.note", "message": "the call has no account"}],
            )
        written = await add_note(
            session, call.account_id, NoteCreate(body=note), author=principal, now=now
        )
    row = await session.get(CallWrapUp, call.id)
    if row is None:
        row = CallWrapUp(call_id=call.id, disposition=code.code, author=principal.name, at=now)
        session.add(row)
    row.disposition = code.code
    row.specialist_id = principal.specialist_id
    row.author = principal.name
    row.at = now
    if written is not None:
        row.note_id = written.id
    await session.flush()
    return row, written


async def disposition_of(session: AsyncSession, call_id: int) -> str | None:
    """The disposition on a call, if it has one."""
    found: str | None = await session.scalar(
        select(CallWrapUp.disposition).where(CallWrapUp.call_id == call_id)
    )
    return found
