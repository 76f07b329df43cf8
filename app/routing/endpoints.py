"""`/v1/routing/explain`: the routing decision for a team, language, skill and tier."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from app.auth.deps import RotaReader
from app.auth.service import Principal
from app.core.deps import ClockDep, DbSession
from app.core.errors import ValidationFailed
from app.core.types import Instant
from app.rota.repository import team_by_slug
from app.rota.writes import require_aware_query
from app.routing.decide import RouteRequest
from app.routing.explain import Excluded, explain

router = APIRouter(prefix="/v1/routing", tags=["routing"])


class RingOut(BaseModel):
    """Someone who would be rung, in ringing order."""

    position: int
    specialist_id: int
    name: str
    team: str
    skilled: bool
    reason: str


class ExcludedOut(BaseModel):
    """A team member who would not be rung."""

    specialist_id: int
    name: str
    reason: Literal[
        "off_shift",
        "on_leave",
        "day_off_in_lieu",
        "day_off",
        "inactive",
        "busy",
        "held_for_queue",
        "lacks_language",
        "no_contact",
        "already_rung",
        "away",
    ]
    detail: str


class ExplainOut(BaseModel):
    """Who would be rung now, in order, and why each other team member would not."""

    at: datetime
    team: str
    language: str
    skill: str | None
    tier: str
    strategy: str
    batch_size: int
    outcome: Literal["ring", "queue", "nobody"]
    would_ring: list[RingOut]
    first_batch: list[int]
    excluded: list[ExcludedOut]


@router.get("/explain", response_model=ExplainOut)
async def explain_route(
    session: DbSession,
    clock: ClockDep,
    principal: RotaReader,
    team: str = Query(min_length=1, max_length=64),
    language: str = Query(min_length=2, max_length=10),
    skill: str | None = Query(default=None, max_length=64),
    tier: Literal["standard", "paid", "unknown"] = "standard",
    strategy: Literal["longest_idle", "round_robin", "fixed_order"] = "longest_idle",
    batch_size: int = Query(default=2, ge=1, le=10),
    at: Instant | None = None,
) -> ExplainOut:
    """The routing decision a call would get (default now): candidates, then exclusions."""
    require_aware_query(at, "at")
    if await team_by_slug(session, team) is None:
        raise ValidationFailed(
            f"team {team!r} does not exist",
            errors=[{"field": "query.team", "message": "no such team"}],
        )
    instant = at or clock.now()
    request = RouteRequest(team, language, skill, tier, strategy, batch_size)
    found = await explain(session, request, at=instant)
    decision = found.decision
    ring = [
        RingOut(
            position=i,
            specialist_id=p.specialist_id,
            name=p.name,
            team=p.team,
            skilled=skill is not None and skill in p.skills,
            reason=c.reason,
        )
        for i, (p, c) in enumerate(
            ((c.person, c) for c in decision.considered if c.status == "candidate"), start=1
        )
    ]
    outcome: Literal["ring", "queue", "nobody"] = (
        "ring" if ring else "queue" if decision.could_wait else "nobody"
    )
    return ExplainOut(
        at=instant,
        team=team,
        language=language,
        skill=skill,
        tier=tier,
        strategy=strategy,
        batch_size=batch_size,
        outcome=outcome,
        would_ring=ring,
        first_batch=[r.specialist_id for r in ring[:batch_size]],
        excluded=[
            ExcludedOut(
                specialist_id=e.specialist_id,
                name=e.name,
                reason=e.reason,
                detail=e.detail,
            )
            for e in (private_view(found.excluded, principal))
        ],
    )


# Why someone is absent is theirs: a specialist key reads only its own overrides and days
# off (`/v1/overrides`, `/v1/days-off`), so here it sees a colleague only as not on shift.
PRIVATE_REASONS = frozenset({"on_leave", "day_off_in_lieu", "day_off"})


def private_view(excluded: tuple[Excluded, ...], principal: Principal) -> list[Excluded]:
    """The exclusions a key may see: a specialist key sees colleagues' absences unexplained."""
    if principal.role != "specialist":
        return list(excluded)
    return [
        e
        if e.reason not in PRIVATE_REASONS or e.specialist_id == principal.specialist_id
        else Excluded(e.specialist_id, e.name, "off_shift", "not on shift now")
        for e in excluded
    ]
