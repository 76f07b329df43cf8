"""The demo's weekend rotas, made by the planner: the demo obeys its own weekend rule.

Every member of a demo team that is open at weekends works at least one weekend day every
week and gets a weekday off in lieu (that week or the next). The seed writes the standing
rotations first (`app/rota/seed_data.py`: weekdays, and two weekend crews in alternate
weeks), then, for each such team it has just created, proposes a plan for the demo's first
12 weeks (the 4 weeks of history and 8 ahead) and applies it, as a scheduler would: the
standing rotations pause for those weeks and resume after them.

The search is kept short and repeatable: one solver thread, a fixed seed, a few seconds per
team, and no weight on "few changes" (a new demo has no rota anyone is used to; that goal is
what makes the search slow, see docs/planner.md). If a team gets no plan in time the seed
keeps its standing rotations and logs why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.rota import Specialist
from app.planning import service
from app.planning.apply import apply_plan, team_etag
from app.planning.schemas import ALL_DAYS, PlanRequest
from app.rota import repository
from app.rota.seed_data import EN, PAID
from app.rota.seed_rota import SEED_PRINCIPAL, history_monday
from app.rota.writes import RotaWrite

logger = logging.getLogger("switchboard.seed")

PLAN_WEEKS = 12
TIME_LIMIT_SECONDS = 5.0


@dataclass(frozen=True)
class DemoPlan:
    """How the seed plans one team's rota."""

    team: str
    settings: dict[str, Any] = field(default_factory=dict)
    # Members who stand in for this team but are not rostered in it.
    stand_ins: tuple[str, ...] = ()


DEMO_PLANS = (
    # The US team works 9-hour weekdays (08:00-17:00) as its standing rota does.
    DemoPlan(EN, {"shift_hours": 9, "max_hours_per_week": 45}),
    # Siobhán is rostered in the US team and stands in on the paid line.
    DemoPlan(PAID, stand_ins=("Siobhán Murphy",)),
)


@dataclass(frozen=True)
class DemoPlanOutcome:
    """What the seed did with one team's plan."""

    team: str
    plan_id: int
    status: str
    seconds: float
    applied: bool

    def __str__(self) -> str:
        verdict = "applied" if self.applied else "not applied, standing rotations kept"
        return f"{self.team} {self.status} in {self.seconds:.1f} s, {verdict}"


async def _ids(session: AsyncSession, names: tuple[str, ...]) -> list[int]:
    if not names:
        return []
    rows = await session.scalars(select(Specialist.id).where(Specialist.name.in_(names)))
    return list(rows)


def _request(demo: DemoPlan, start: str, stand_ins: list[int], time_limit: float) -> PlanRequest:
    return PlanRequest.model_validate(
        {
            "start": start,
            "weeks": PLAN_WEEKS,
            "settings": {**demo.settings, "time_limit_seconds": time_limit, "seed": 1},
            "weights": {"change": 0},
            "members": [
                {"specialist_id": pid, "unavailable_days": list(ALL_DAYS)} for pid in stand_ins
            ],
        }
    )


async def plan_demo_weekends(
    session: AsyncSession,
    now: datetime,
    new_teams: frozenset[str],
    *,
    time_limit: float = TIME_LIMIT_SECONDS,
) -> list[DemoPlanOutcome]:
    """Plan and apply the weekend rotas of the demo teams created just now."""
    outcomes = []
    limits = service.Limits(time_limit, workers=1)  # one thread: the same plan every time
    for demo in DEMO_PLANS:
        if demo.team not in new_teams:
            continue
        team = await repository.team_by_slug(session, demo.team)
        if team is None:
            continue
        members = set((await repository.team_members(session, [team.id])).get(team.id, []))
        stand_ins = [pid for pid in await _ids(session, demo.stand_ins) if pid in members]
        data = _request(demo, history_monday(now, team.tz).isoformat(), stand_ins, time_limit)
        row = await service.propose_in(session, demo.team, data, limits, "seed", now)
        applied = row.status in ("optimal", "feasible")
        if applied:
            write = RotaWrite(session, SEED_PRINCIPAL, now, dry_run=False)
            await apply_plan(
                session, row, write, if_match=team_etag(team), allow_past=True, dry_run=False
            )
            logger.info(
                "demo weekend rota of %s planned: %s in %.1f s (plan %d, %d weeks from %s)",
                demo.team,
                row.status,
                row.solve_seconds,
                row.id,
                PLAN_WEEKS,
                data.start,
            )
        else:
            reasons = "; ".join(r["message"] for r in row.result.get("relaxations", [])[:3])
            logger.warning(
                "demo weekend rota of %s not planned (%s after %.1f s%s): its standing "
                "rotations, two crews on alternate weekends, stay",
                demo.team,
                row.status,
                row.solve_seconds,
                f": {reasons}" if reasons else "",
            )
        outcomes.append(
            DemoPlanOutcome(demo.team, row.id, row.status, round(row.solve_seconds, 2), applied)
        )
    return outcomes
