"""`/v1/callbacks`: the work list of voicemails and callback requests."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from app.auth.service import Principal
from app.core.deps import ClockDep, DbSession
from app.core.errors import ValidationFailed
from app.core.pagination import Limit, Page, decode_cursor, next_page
from app.core.types import MAX_DB_INT, DbId
from app.models.routing import WorkItem
from app.worklist import repository, service
from app.worklist.auth import WorkClaimer, WorkCompleter, WorkReader
from app.worklist.schemas import ClaimRequest, CompleteRequest, WorkItemOut, WorkKind

router = APIRouter(prefix="/v1/callbacks", tags=["work list"])

StatusFilter = Literal["open", "claimed", "done", "all"]
_STATUSES: dict[str, tuple[str, ...]] = {
    "open": ("open",),
    "claimed": ("claimed",),
    "done": ("done",),
    "all": ("open", "claimed", "done"),
}


def _bad(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field} is not valid", errors=[{"field": field, "message": message}])


def _position(cursor: str | None) -> tuple[int, datetime, int] | None:
    """Where a page starts: after this (paid-first rank, created_at, id)."""
    if cursor is None:
        return None
    values = decode_cursor(cursor, "after_rank", "after_at", "after_id")
    rank, at, item_id = values["after_rank"], values["after_at"], values["after_id"]
    try:
        after_at = datetime.fromisoformat(at) if isinstance(at, str) else None
    except ValueError:
        after_at = None
    if (
        after_at is None
        or after_at.tzinfo is None
        or not isinstance(item_id, int)
        or isinstance(item_id, bool)
        or rank not in (0, 1)
    ):
        raise _bad("query.cursor", "not a cursor returned by this list")
    return int(rank), after_at, item_id


def _claimer(claimed_by: str | None, principal: Principal) -> int | None:
    """The specialist id of `claimed_by` (`me`: the specialist key's own)."""
    if claimed_by is None:
        return None
    if claimed_by == "me":
        if principal.specialist_id is None:
            raise _bad("query.claimed_by", "'me' needs a specialist key")
        return principal.specialist_id
    value = int(claimed_by)
    if value > MAX_DB_INT:
        raise _bad("query.claimed_by", "not a specialist id")
    return value


def _answer(response: Response, item: WorkItem) -> None:
    response.headers["ETag"] = service.etag(item)


@router.get("", response_model=Page[WorkItemOut])
async def list_work_items(
    session: DbSession,
    principal: WorkReader,
    status: Annotated[
        StatusFilter | None,
        Query(description="default `open` (`claimed` when `claimed_by` is given)"),
    ] = None,
    team: Annotated[str | None, Query(max_length=64)] = None,
    language: Annotated[str | None, Query(max_length=10)] = None,
    kind: WorkKind | None = None,
    account_id: DbId | None = None,
    claimed_by: Annotated[
        str | None,
        Query(pattern=r"^(me|[1-9][0-9]{0,9})$", description="a specialist id, or `me`"),
    ] = None,
    limit: Limit = 50,
    cursor: str | None = None,
) -> Page[WorkItemOut]:
    """Work items in the order they are worked in: paid customers' first, then oldest first;
    filtered, one page at a time."""
    where = repository.WorkFilter(
        statuses=_STATUSES[status or ("claimed" if claimed_by else "open")],
        team=team,
        language=language,
        kind=kind,
        account_id=account_id,
        claimed_by_id=_claimer(claimed_by, principal),
    )
    ranked = await repository.page(session, where, after=_position(cursor), limit=limit + 1)
    ranked, next_cursor = next_page(
        ranked,
        limit,
        lambda r: {
            "after_rank": r[1],
            "after_at": r[0].created_at.isoformat(),
            "after_id": r[0].id,
        },
    )
    rows = [item for item, _ in ranked]
    found = await repository.related(session, rows)
    return Page[WorkItemOut](
        items=[service.to_out(i, found) for i in rows], next_cursor=next_cursor
    )


@router.get("/{item_id}", response_model=WorkItemOut)
async def get_work_item(
    item_id: DbId, response: Response, session: DbSession, _: WorkReader
) -> WorkItemOut:
    """One work item (with an ETag)."""
    item = await service.get(session, item_id)
    _answer(response, item)
    return await service.view(session, item)


@router.post("/{item_id}/claim", response_model=WorkItemOut)
async def claim_work_item(
    item_id: DbId,
    response: Response,
    session: DbSession,
    clock: ClockDep,
    principal: WorkClaimer,
    body: ClaimRequest | None = None,
) -> WorkItemOut:
    """Claim an item: a specialist key for itself, admin or scheduler for `specialist_id`.

    Claiming one's own claim again answers 200; an item someone else holds, or one that is
    done, is a 409 naming who holds it.
    """
    item = await service.claim(
        session,
        item_id,
        principal,
        specialist_id=body.specialist_id if body else None,
        now=clock.now(),
    )
    _answer(response, item)
    return await service.view(session, item)


@router.post("/{item_id}/release", response_model=WorkItemOut)
async def release_work_item(
    item_id: DbId, response: Response, session: DbSession, clock: ClockDep, principal: WorkClaimer
) -> WorkItemOut:
    """Put a claimed item back on the open list (its claimer, an admin or a scheduler)."""
    item = await service.release(session, item_id, principal, now=clock.now())
    _answer(response, item)
    return await service.view(session, item)


@router.post("/{item_id}/complete", response_model=WorkItemOut)
async def complete_work_item(
    item_id: DbId,
    body: CompleteRequest,
    response: Response,
    session: DbSession,
    clock: ClockDep,
    principal: WorkCompleter,
) -> WorkItemOut:
    """Close an item with an outcome and an optional note (added to the account's history).

    A specialist may complete an open item directly (claiming it at once); completing again
    with the same outcome answers 200, with another outcome 409.
    """
    item = await service.complete(
        session, item_id, principal, outcome=body.outcome, note=body.note, now=clock.now()
    )
    _answer(response, item)
    return await service.view(session, item)
