"""`/v1/calls`: the call log."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select

from app.auth.deps import CallReader
from app.calls import repository, wrapup
from app.calls.schemas import CallDetail, CallOut, call_detail, call_out
from app.core.deps import DbSession
from app.core.errors import NotFound, ValidationFailed
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, id_cursor, next_page
from app.core.types import AwareInstant, DbId
from app.models.routing import QueueEntry

router = APIRouter(prefix="/v1/calls", tags=["calls"])

Status = Literal[
    "queued",
    "initiated",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
]
Outcome = Literal["answered", "voicemail", "transferred", "callback", "ended", "abandoned"]


@router.get("", response_model=Page[CallOut])
async def list_calls(
    session: DbSession,
    _: CallReader,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    start: Annotated[AwareInstant | None, Query(description="started at or after")] = None,
    end: Annotated[AwareInstant | None, Query(description="started before")] = None,
    account: Annotated[DbId | None, Query(description="account id")] = None,
    specialist: Annotated[DbId | None, Query(description="answered by this specialist")] = None,
    status: Status | None = None,
    outcome: Outcome | None = None,
    team: Annotated[str | None, Query(max_length=64)] = None,
    disposition: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[CallOut]:
    """Calls, newest first, filtered, one page at a time."""
    if start is not None and end is not None and end <= start:
        raise ValidationFailed(
            "end must be after start",
            errors=[{"field": "query.end", "message": "must be after start"}],
        )
    before = id_cursor(cursor, "before_id")
    rows = await repository.page(
        session,
        before_id=before,
        limit=limit + 1,
        start=start,
        end=end,
        account_id=account,
        specialist_id=specialist,
        status=status,
        outcome=outcome,
        team=team,
        disposition=disposition,
    )
    rows, next_cursor = next_page(rows, limit, lambda c: {"before_id": c.id})
    return Page[CallOut](items=[call_out(c) for c in rows], next_cursor=next_cursor)


@router.get("/{sid}", response_model=CallDetail)
async def get_call(sid: str, session: DbSession, _: CallReader) -> CallDetail:
    """One call with its IVR path, status timeline and ringing attempts."""
    call = await repository.detail(session, sid)
    if call is None:
        raise NotFound(f"call {sid} does not exist")
    entry = await session.scalar(select(QueueEntry).where(QueueEntry.call_id == call.id))
    detail = call_detail(call, entry)
    detail.disposition = await wrapup.disposition_of(session, call.id)
    return detail
