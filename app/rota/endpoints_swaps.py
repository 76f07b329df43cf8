"""`/v1/swaps`: shift swap requests between teammates."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select

from app.auth.deps import CurrentPrincipal
from app.core.deps import ClockDep, DbSession
from app.core.types import DbId, JsonId
from app.models.console import SwapRequest
from app.models.rota import Specialist, Team
from app.rota import swaps

router = APIRouter(prefix="/v1/swaps", tags=["rota"])

State = Literal["pending", "accepted", "approved", "declined", "rejected", "cancelled"]


class SwapIn(BaseModel):
    """Offer one of my shifts (teammate optional) or ask a teammate to take it."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["offer", "ask"]
    team: str = Field(min_length=1, max_length=64)
    start: AwareDatetime
    end: AwareDatetime
    teammate_id: JsonId | None = None
    note: str | None = Field(default=None, max_length=500)


class SwapOut(BaseModel):
    """A swap request and where it stands."""

    id: int
    kind: str
    team: str
    requester: dict[str, int | str]
    teammate: dict[str, int | str] | None
    start: datetime
    end: datetime
    note: str | None
    state: State
    needs_approval: bool
    accepted_by: dict[str, int | str] | None
    override_id: int | None
    decided_by: str | None
    created_at: datetime


async def swap_outs(session: DbSession, rows: list[SwapRequest]) -> list[SwapOut]:
    """Swap requests with their team and people's names."""
    ids = {r.requester_id for r in rows} | {
        x for r in rows for x in (r.teammate_id, r.accepted_by_id) if x is not None
    }
    names = (
        dict(
            (
                await session.execute(
                    select(Specialist.id, Specialist.name).where(Specialist.id.in_(ids))
                )
            ).all()
        )
        if ids
        else {}
    )
    slugs = dict((await session.execute(select(Team.id, Team.slug))).all())

    def person(sid: int | None) -> dict[str, int | str] | None:
        return None if sid is None else {"id": sid, "name": names.get(sid, "")}

    return [
        SwapOut(
            id=r.id,
            kind=r.kind,
            team=slugs[r.team_id],
            requester={"id": r.requester_id, "name": names.get(r.requester_id, "")},
            teammate=person(r.teammate_id),
            start=r.starts_at,
            end=r.ends_at,
            note=r.note,
            state=r.state,
            needs_approval=r.needs_approval,
            accepted_by=person(r.accepted_by_id),
            override_id=r.override_id,
            decided_by=r.decided_by,
            created_at=r.created_at,
        )
        for r in rows
    ]


@router.post("", response_model=SwapOut, status_code=status.HTTP_201_CREATED)
async def create_swap(
    body: SwapIn, session: DbSession, clock: ClockDep, principal: CurrentPrincipal
) -> SwapOut:
    """Ask or offer (a specialist, for one of their own shifts still to come)."""
    row = await swaps.create(
        session,
        principal,
        kind=body.kind,
        team=body.team,
        start=body.start,
        end=body.end,
        teammate_id=body.teammate_id,
        note=body.note,
        now=clock.now(),
    )
    return (await swap_outs(session, [row]))[0]


@router.get("", response_model=list[SwapOut])
async def list_swaps(
    session: DbSession,
    principal: CurrentPrincipal,
    state: list[State] | None = Query(default=None),
) -> list[SwapOut]:
    """Requests I sent or received (and open offers in my teams); all for supervisors."""
    rows = await swaps.visible(session, principal, states=tuple(state) if state else None)
    return await swap_outs(session, rows)


Action = Literal["accept", "decline", "cancel", "approve", "reject"]


@router.post("/{swap_id}/{action}", response_model=SwapOut)
async def act_on_swap(
    swap_id: DbId,
    action: Action,
    session: DbSession,
    clock: ClockDep,
    principal: CurrentPrincipal,
) -> SwapOut:
    """accept / decline (the teammate), cancel (the requester), approve / reject (scheduler)."""
    now = clock.now()
    if action == "accept":
        row = await swaps.accept(session, principal, swap_id, now=now)
    elif action == "decline":
        row = await swaps.decline(session, principal, swap_id, now=now)
    elif action == "cancel":
        row = await swaps.cancel(session, principal, swap_id, now=now)
    else:
        row = await swaps.decide(session, principal, swap_id, approve=action == "approve", now=now)
    return (await swap_outs(session, [row]))[0]
