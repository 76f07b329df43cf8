"""What the planner page reads: teams and members, stored plans, the current rota's gaps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.calc_pool import calculate
from app.models.planning import RotaPlan
from app.models.rota import Rotation, Specialist, Team
from app.planning.apply import team_etag
from app.rota import repository
from app.rota.calculator import coverage_gaps
from app.rota.calendar_view import holiday_names
from app.rota.repository import load_snapshot
from app.rota.schemas import GapOut
from app.rota.wallclock import local_midnight


@dataclass(frozen=True)
class PlanLine:
    """A stored plan in a list."""

    id: int
    team_slug: str
    team_name: str
    start: date
    weeks: int
    status: str
    seconds: float
    created_by: str
    created_at: datetime
    applied_at: datetime | None
    applied_by: str | None


@dataclass(frozen=True)
class TeamFacts:
    """A team as the planner form needs it."""

    id: int
    slug: str
    name: str
    tz: str
    etag: str
    members: list[tuple[int, str]]


async def teams(session: AsyncSession) -> list[tuple[str, str, str]]:
    """Every team: slug, name, zone."""
    rows = await session.execute(select(Team.slug, Team.name, Team.tz).order_by(Team.name))
    return [(s, n, z) for s, n, z in rows]


async def team_facts(session: AsyncSession, slug: str) -> TeamFacts | None:
    """The team, its ETag and its members (id, name) by name, or None."""
    team = await repository.team_by_slug(session, slug)
    if team is None:
        return None
    ids = (await repository.team_members(session, [team.id])).get(team.id, [])
    names = dict(
        (i, n)
        for i, n in await session.execute(
            select(Specialist.id, Specialist.name).where(Specialist.id.in_(ids or [-1]))
        )
    )
    members = sorted(((i, names.get(i, "?")) for i in ids), key=lambda m: m[1])
    return TeamFacts(team.id, team.slug, team.name, team.tz, team_etag(team), members)


async def plans(
    session: AsyncSession, team_id: int | None = None, limit: int = 50
) -> list[PlanLine]:
    """Stored plans, newest first (one team's or all)."""
    query = (
        select(RotaPlan, Team.slug, Team.name)
        .join(Team, Team.id == RotaPlan.team_id)
        .order_by(RotaPlan.id.desc())
        .limit(limit)
    )
    if team_id is not None:
        query = query.where(RotaPlan.team_id == team_id)
    out = []
    for row, slug, name in await session.execute(query):
        out.append(
            PlanLine(
                row.id,
                slug,
                name,
                row.period_start,
                row.weeks,
                row.status,
                row.solve_seconds,
                row.created_by,
                row.created_at,
                row.applied_at,
                row.applied_by,
            )
        )
    return out


async def latest_request(session: AsyncSession, team_id: int) -> dict[str, Any] | None:
    """The request of the team's newest plan (to plan the next period the same way)."""
    row = await session.scalar(
        select(RotaPlan).where(RotaPlan.team_id == team_id).order_by(RotaPlan.id.desc()).limit(1)
    )
    return dict(row.request) if row is not None else None


async def current_gaps(session: AsyncSession, slug: str, start: date, weeks: int) -> list[GapOut]:
    """The current rota's coverage gaps over a period (the team's zone)."""
    team = await repository.team_by_slug(session, slug)
    if team is None:
        return []
    p0 = local_midnight(start, team.tz)
    p1 = local_midnight(start + timedelta(weeks=weeks), team.tz)
    snapshot = await load_snapshot(session, p0, p1)
    if slug not in snapshot.rota.teams:
        return []
    gaps = await calculate(coverage_gaps, snapshot.rota, slug, p0, p1)
    return [
        GapOut(
            start=g.start,
            end=g.end,
            team=slug,
            staffed=g.staffed,
            min_staff=g.min_staff,
            language=g.language,
            rule_index=g.rule_index,
        )
        for g in gaps
    ]


async def holidays(session: AsyncSession, slug: str, start: date, weeks: int) -> dict[date, str]:
    """The team's public holidays in the period, by name."""
    team = await repository.team_by_slug(session, slug)
    if team is None:
        return {}
    return holiday_names(team, start, start + timedelta(weeks=weeks, days=-1))


async def rotation_names(session: AsyncSession, ids: list[int]) -> list[str]:
    """The names of rotations (for a preview's paused rotations), in id order."""
    if not ids:
        return []
    rows = await session.execute(
        select(Rotation.id, Rotation.name).where(Rotation.id.in_(ids)).order_by(Rotation.id)
    )
    return [f"{name} (#{rid})" for rid, name in rows]
