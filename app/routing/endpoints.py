"""`/v1/routing/explain`: the routing decision for a team, language, skill and tier.

Also, for the caller's tier, language and topic, the whole order a flow's route step
tries (`flow_route`): its team, each overflow team, then its fallback.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from app.auth.deps import RotaReader
from app.auth.service import Principal
from app.core.deps import ClockDep, DbSession
from app.core.errors import ValidationFailed
from app.core.types import Instant
from app.ivr import Flow, flows_for_number, route_order, route_steps
from app.rota.repository import team_by_slug
from app.rota.writes import require_aware_query
from app.routing.decide import RouteRequest
from app.routing.explain import (
    Excluded,
    Explanation,
    OrderPlan,
    Reached,
    explain,
    explain_order,
    outcome_of,
)

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


class OrderStepOut(BaseModel):
    """One team of a route step's order, as the call would meet it."""

    position: int
    team: str
    why: str  # why the team is at this place in the order
    reached: Reached
    outcome: Literal["ring", "queue", "nobody"]
    reason: str
    would_ring: list[RingOut]
    first_batch: list[int]
    excluded: list[ExcludedOut]


class FlowRouteOut(BaseModel):
    """How a flow's route step would take the call: every team in order, then the fallback."""

    flow: str
    step: str
    skill: str | None
    strategy: str
    batch_size: int
    max_attempts: int
    max_wait: int
    teams: list[OrderStepOut]
    fallback: str
    fallback_reached: Reached


class ExplainOut(BaseModel):
    """Who would be rung now, in order, and why each other team member would not.

    With `team`, the top-level fields describe that team. Without it, they describe the
    team of `flow_route` the call would be rung or held in now (else its first team).
    """

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
    flow_route: FlowRouteOut | None = None


def _flow(request: Request, name: str | None) -> Flow | None:
    """The flow asked for by name, else the one answering numbers no flow lists."""
    flows: dict[str, Flow] = getattr(request.app.state, "flows", None) or {}
    if name is None:
        return flows_for_number(flows, "")
    found = flows.get(name)
    if found is None:
        raise ValidationFailed(
            f"flow {name!r} does not exist",
            errors=[{"field": "query.flow", "message": "no such flow"}],
        )
    return found


def _ring_out(found: Explanation, skill: str | None) -> list[RingOut]:
    candidates = (c for c in found.decision.considered if c.status == "candidate")
    return [
        RingOut(
            position=i,
            specialist_id=c.person.specialist_id,
            name=c.person.name,
            team=c.person.team,
            skilled=skill is not None and skill in c.person.skills,
            reason=c.reason,
        )
        for i, c in enumerate(candidates, start=1)
    ]


def _excluded_out(found: Explanation, principal: Principal) -> list[ExcludedOut]:
    return [
        ExcludedOut(specialist_id=e.specialist_id, name=e.name, reason=e.reason, detail=e.detail)
        for e in private_view(found.excluded, principal)
    ]


@router.get("/explain", response_model=ExplainOut)
async def explain_route(
    request: Request,
    session: DbSession,
    clock: ClockDep,
    principal: RotaReader,
    language: str = Query(min_length=2, max_length=10),
    team: str | None = Query(default=None, min_length=1, max_length=64),
    skill: str | None = Query(default=None, max_length=64),
    tier: Literal["standard", "paid", "unknown"] = "standard",
    strategy: Literal["longest_idle", "round_robin", "fixed_order"] = "longest_idle",
    batch_size: int = Query(default=2, ge=1, le=10),
    at: Instant | None = None,
    flow: str | None = Query(default=None, min_length=1, max_length=64),
    step: str | None = Query(default=None, min_length=1, max_length=64),
) -> ExplainOut:
    """The routing decision a call would get (default now): candidates, then exclusions.

    `flow_route` is the whole order of a flow's route step for this caller (`flow`:
    default the flow answering unlisted numbers; `step`: default its first route step),
    with the step's own strategy and batch size; without `team`, the top-level fields
    describe the team of that order the call would be rung or held in now.
    """
    require_aware_query(at, "at")
    if team is not None and await team_by_slug(session, team) is None:
        raise ValidationFailed(
            f"team {team!r} does not exist",
            errors=[{"field": "query.team", "message": "no such team"}],
        )
    instant = at or clock.now()
    found_flow = _flow(request, flow)
    plan: OrderPlan | None = None
    route_out: FlowRouteOut | None = None
    if found_flow is not None:
        steps = route_steps(found_flow)
        if step is not None and step not in steps:
            raise ValidationFailed(
                f"flow {found_flow.name!r} has no route step {step!r}",
                errors=[{"field": "query.step", "message": "no such route step in the flow"}],
            )
        if steps:
            order = route_order(
                found_flow, step or steps[0], language=language, tier=tier, topic=skill
            )
            base = RouteRequest(
                order.teams[0].team,
                language,
                order.skill,
                tier,
                order.strategy,
                max(1, min(order.batch_size, 10)),
            )
            plan = await explain_order(
                session,
                [(t.team, t.why) for t in order.teams],
                base,
                at=instant,
                max_attempts=order.max_attempts,
                max_wait=order.max_wait,
                fallback=order.fallback,
            )
            route_out = FlowRouteOut(
                flow=found_flow.name,
                step=order.step,
                skill=order.skill,
                strategy=order.strategy,
                batch_size=base.batch_size,
                max_attempts=order.max_attempts,
                max_wait=order.max_wait,
                teams=[
                    OrderStepOut(
                        position=i,
                        team=s.team,
                        why=s.why,
                        reached=s.reached,
                        outcome=s.outcome,
                        reason=s.reason,
                        would_ring=(ring := _ring_out(s.found, order.skill)),
                        first_batch=[r.specialist_id for r in ring[: base.batch_size]],
                        excluded=_excluded_out(s.found, principal),
                    )
                    for i, s in enumerate(plan.steps, start=1)
                ],
                fallback=plan.fallback,
                fallback_reached=plan.fallback_reached,
            )
    if team is not None:
        request_ = RouteRequest(team, language, skill, tier, strategy, batch_size)
        found = await explain(session, request_, at=instant)
    elif plan is not None:
        landing = next((s for s in plan.steps if s.outcome != "nobody"), plan.steps[0])
        found = landing.found
        team, skill = landing.team, found.decision.request.skill
        strategy, batch_size = found.decision.request.strategy, found.decision.request.batch_size
    else:
        raise ValidationFailed(
            "team is required: no flow has a route step to take it from",
            errors=[{"field": "query.team", "message": "required when no flow routes the call"}],
        )
    ring = _ring_out(found, skill)
    return ExplainOut(
        at=instant,
        team=team,
        language=language,
        skill=skill,
        tier=tier,
        strategy=strategy,
        batch_size=batch_size,
        outcome=outcome_of(found.decision),
        would_ring=ring,
        first_batch=[r.specialist_id for r in ring[:batch_size]],
        excluded=_excluded_out(found, principal),
        flow_route=route_out,
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
