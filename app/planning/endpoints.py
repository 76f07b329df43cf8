"""`/v1/teams/{slug}/plans` and `/v1/plans/{id}`: propose, read and apply rota plans."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from app.auth.deps import RotaReader, RotaWriter
from app.auth.service import Principal, authenticate
from app.core.db import Database
from app.core.deps import ClockDep, DbSession, get_database
from app.core.errors import Forbidden, Unauthorized
from app.core.types import DbId
from app.planning import service
from app.planning.apply import apply_plan, team_etag
from app.planning.schemas import PlanApplied, PlanOut, PlanRequest
from app.rota.deps import AllowPast, IfMatch
from app.rota.writes import RotaWrite

router = APIRouter(prefix="/v1", tags=["rota planner"])
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="switchboard"'}


async def planner(request: Request, clock: ClockDep) -> Principal:
    """A scheduler or admin key, checked in its own short transaction.

    The usual key dependency keeps the request's transaction (and a pooled connection) open
    until the response; a proposal solves for up to its time limit, so it must not.
    """
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'", headers=_CHALLENGE)
    db: Database = request.app.state.db
    async with db.transaction() as session:
        principal = await authenticate(session, secret.strip(), now=clock.now())
    if principal is None:
        raise Unauthorized("the API key is unknown or revoked", headers=_CHALLENGE)
    if principal.role not in ("admin", "scheduler"):
        raise Forbidden(f"the {principal.role} role may not do this; it needs admin or scheduler")
    return principal


def solving(request: Request) -> asyncio.Semaphore:
    """The app's planner lock (the API and the console share it)."""
    # One solve at a time per process: the solver already uses every worker it is given.
    lock: asyncio.Semaphore | None = getattr(request.app.state, "planner_lock", None)
    if lock is None:
        lock = asyncio.Semaphore(1)
        request.app.state.planner_lock = lock
    return lock


@router.post("/teams/{slug}/plans", response_model=PlanOut, status_code=status.HTTP_201_CREATED)
async def propose_plan(
    slug: str,
    data: PlanRequest,
    request: Request,
    response: Response,
    clock: ClockDep,
    principal: Annotated[Principal, Depends(planner)],
    db: Annotated[Database, Depends(get_database)],
) -> PlanOut:
    """Propose a rota for the team over whole weeks: solved, checked and stored, not applied."""
    settings = request.app.state.settings
    limits = service.Limits(settings.planner_time_limit_seconds, settings.planner_workers)
    async with solving(request):
        plan_id = await service.propose(db, slug, data, limits, principal.name, clock.now())
    async with db.transaction() as session:
        row = await service.get_plan(session, plan_id)
        out = await service.plan_view(session, row)
    response.headers["Location"] = f"/v1/plans/{plan_id}"
    return out


@router.get("/plans/{plan_id}", response_model=PlanOut)
async def read_plan(plan_id: DbId, session: DbSession, _: RotaReader) -> PlanOut:
    """A stored proposal: schedule, gaps, fairness before and after, changes, solver figures."""
    row = await service.get_plan(session, plan_id)
    return await service.plan_view(session, row)


@router.post("/plans/{plan_id}/apply", response_model=PlanApplied)
async def apply(
    plan_id: DbId,
    session: DbSession,
    db: Annotated[Database, Depends(get_database)],
    clock: ClockDep,
    principal: RotaWriter,
    response: Response,
    if_match: IfMatch = None,
    allow_past: AllowPast = False,
    dry_run: Annotated[
        bool, Query(description="show what applying would write, without writing it")
    ] = False,
) -> PlanApplied:
    """Write the plan as rotations and lieu moves (If-Match: the team's ETag).

    The edit commits, then the stored shifts of the team's part of the rota are refreshed
    with no connection or lock held while they are calculated (as every rota write).
    """
    row = await service.get_plan(session, plan_id)
    write = await RotaWrite(session, principal, clock.now(), dry_run=False, db=db).start()
    outcome = await apply_plan(
        session, row, write, if_match=if_match, allow_past=allow_past, dry_run=dry_run
    )
    team = await service.team_of(session, row)
    response.headers["ETag"] = team_etag(team)
    return outcome
