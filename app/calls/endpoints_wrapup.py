"""`/v1/dispositions` (the admin's list of outcome codes) and `/v1/calls/{sid}/wrap-up`."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from app.auth.deps import Admin, CurrentPrincipal
from app.calls import wrapup
from app.core.deps import ClockDep, DbSession
from app.core.types import JsonBool, JsonInt
from app.models.console import Disposition

router = APIRouter(prefix="/v1", tags=["calls"])


class DispositionIn(BaseModel):
    """A new outcome code."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=40, examples=["resolved"])
    label: str = Field(min_length=1, max_length=200, examples=["Resolved on the call"])
    position: JsonInt = Field(default=0, ge=0, le=10_000)


class DispositionUpdate(BaseModel):
    """Changes to an outcome code (retire it with active: false)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    label: str | None = Field(default=None, min_length=1, max_length=200)
    active: JsonBool | None = None
    position: JsonInt | None = Field(default=None, ge=0, le=10_000)


class DispositionOut(BaseModel):
    """An outcome code specialists put on calls."""

    code: str
    label: str
    active: bool
    position: int


def _out(row: Disposition) -> DispositionOut:
    return DispositionOut(code=row.code, label=row.label, active=row.active, position=row.position)


@router.get("/dispositions", response_model=list[DispositionOut])
async def list_dispositions(
    session: DbSession, _: CurrentPrincipal, include_inactive: bool = False
) -> list[DispositionOut]:
    """The outcome codes in the admin's order (active ones unless asked)."""
    rows = await wrapup.listed(session, include_inactive=include_inactive)
    return [_out(r) for r in rows]


@router.post("/dispositions", response_model=DispositionOut, status_code=status.HTTP_201_CREATED)
async def create_disposition(
    body: DispositionIn, session: DbSession, clock: ClockDep, _: Admin
) -> DispositionOut:
    """Add an outcome code (admin)."""
    row = await wrapup.create(
        session, code=body.code, label=body.label, position=body.position, now=clock.now()
    )
    return _out(row)


@router.patch("/dispositions/{code}", response_model=DispositionOut)
async def update_disposition(
    code: str, body: DispositionUpdate, session: DbSession, clock: ClockDep, _: Admin
) -> DispositionOut:
    """Rename, reorder or retire an outcome code (admin); calls keep the codes they have."""
    row = await wrapup.update(
        session,
        code,
        label=body.label,
        active=body.active,
        position=body.position,
        now=clock.now(),
    )
    return _out(row)


class WrapUpIn(BaseModel):
    """After the call: its disposition and, optionally, a note on the caller's account."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    disposition: str = Field(min_length=1, max_length=40)
    note: str | None = Field(default=None, max_length=10_000)


class WrapUpOut(BaseModel):
    """The wrap-up recorded on a call."""

    call_sid: str
    disposition: str
    author: str
    at: datetime
    note_id: int | None


@router.put("/calls/{sid}/wrap-up", response_model=WrapUpOut)
async def put_wrap_up(
    sid: str, body: WrapUpIn, session: DbSession, clock: ClockDep, principal: CurrentPrincipal
) -> WrapUpOut:
    """Record the disposition (the specialist rung for the call, or an admin)."""
    row, _ = await wrapup.wrap_up(
        session, principal, sid, disposition=body.disposition, note=body.note, now=clock.now()
    )
    return WrapUpOut(
        call_sid=sid, disposition=row.disposition, author=row.author, at=row.at, note_id=row.note_id
    )
