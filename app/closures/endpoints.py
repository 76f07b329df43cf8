"""`/v1/closures`: one-off closures of the support line (SPEC 4, `hours` step)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import or_, select

from app.auth.deps import RotaReader, RotaWriter
from app.closures import service
from app.closures.schemas import ClosureIn, ClosureOut, ClosurePreview
from app.core.deps import ClockDep, DbSession
from app.core.pagination import Limit, Page, id_cursor, next_page
from app.core.types import DbId, Instant
from app.models.closure import Closure
from app.rota.deps import IfMatch
from app.rota.writes import check_if_match, require_aware_query

router = APIRouter(prefix="/v1", tags=["closures"])
DryRun = Annotated[bool, Query(description="answer what the write would do, without saving")]
_DRY_RUN: dict[int | str, dict[str, Any]] = {
    200: {"model": ClosurePreview, "description": "dry run: the change, not saved"}
}
TeamFilter = Annotated[str | None, Query(description="this team's closures and every-team ones")]
EndingAfter = Annotated[
    datetime | None, Query(description="closures running after this instant (default: now)")
]


@router.get("/closures", response_model=Page[ClosureOut])
async def list_closures(
    session: DbSession,
    principal: RotaReader,
    clock: ClockDep,
    team: Annotated[
        str | None, Query(description="this team's closures and every-team ones")
    ] = None,
    ending_after: Annotated[
        Instant | None,
        Query(description="closures still running after this instant (default now)"),
    ] = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> Page[ClosureOut]:
    """Closures that have not ended yet (or end after `ending_after`), by id."""
    since = require_aware_query(ending_after, "ending_after") or clock.now()
    query = select(Closure).where(Closure.ends_at > since).order_by(Closure.id).limit(limit + 1)
    if team is not None:
        query = query.where(or_(Closure.team.is_(None), Closure.team == team))
    after = id_cursor(cursor, "after_id")
    if after is not None:
        query = query.where(Closure.id > after)
    found, next_cursor = next_page(
        list(await session.scalars(query)), limit, lambda c: {"after_id": c.id}
    )
    return Page[ClosureOut](items=[service.closure_out(c) for c in found], next_cursor=next_cursor)


@router.post(
    "/closures", status_code=status.HTTP_201_CREATED, response_model=ClosureOut, responses=_DRY_RUN
)
async def create_closure(
    body: ClosureIn,
    session: DbSession,
    principal: RotaWriter,
    clock: ClockDep,
    response: Response,
    dry_run: DryRun = False,
) -> ClosureOut:
    """Close a team (or every team) for a window, with a message per language."""
    closure = await service.create(session, body, principal, clock.now(), dry_run)
    response.headers["ETag"] = service.closure_etag(closure)
    response.headers["Location"] = f"/v1/closures/{closure.id}"
    return service.closure_out(closure)


@router.get("/closures/{closure_id}", response_model=ClosureOut)
async def get_closure(
    closure_id: DbId, session: DbSession, principal: RotaReader, response: Response
) -> ClosureOut:
    """One closure."""
    closure = await service.get(session, closure_id)
    response.headers["ETag"] = service.closure_etag(closure)
    return service.closure_out(closure)


@router.put("/closures/{closure_id}", response_model=ClosureOut, responses=_DRY_RUN)
async def replace_closure(
    closure_id: DbId,
    body: ClosureIn,
    session: DbSession,
    principal: RotaWriter,
    clock: ClockDep,
    response: Response,
    if_match: IfMatch = None,
    dry_run: DryRun = False,
) -> ClosureOut:
    """Replace a closure (If-Match required)."""
    closure = await service.get(session, closure_id)
    check_if_match(if_match, service.closure_etag(closure))
    await service.replace(session, closure, body, principal, clock.now(), dry_run)
    response.headers["ETag"] = service.closure_etag(closure)
    return service.closure_out(closure)


@router.delete("/closures/{closure_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_DRY_RUN)
async def delete_closure(
    closure_id: DbId,
    session: DbSession,
    principal: RotaWriter,
    clock: ClockDep,
    if_match: IfMatch = None,
    dry_run: DryRun = False,
) -> Response:
    """Remove a closure (If-Match required)."""
    closure = await service.get(session, closure_id)
    check_if_match(if_match, service.closure_etag(closure))
    await service.delete(session, closure, principal, clock.now(), dry_run)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
