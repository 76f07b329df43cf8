"""Teams and specialists: create, replace, delete, with memberships and feed tokens."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, NotFound, ValidationFailed
from app.models.rota import Rotation, RotationVersionRow, Specialist, Team, TeamMember
from app.rota import repository
from app.rota.schemas import (
    CoverageRuleIn,
    HolidayCalendar,
    SpecialistIn,
    SpecialistOut,
    TeamIn,
    TeamOut,
)
from app.rota.writes import RotaWrite


def new_token() -> str:
    """A secret for a calendar feed link."""
    return secrets.token_urlsafe(24)


def team_out(team: Team, members: list[int]) -> TeamOut:
    """The API view of a team."""
    return TeamOut(
        id=team.id,
        slug=team.slug,
        name=team.name,
        time_zone=team.tz,
        languages=list(team.languages),
        coverage=[CoverageRuleIn.model_validate(r) for r in team.coverage],
        holidays=HolidayCalendar(country=team.holiday_country, subdivision=team.holiday_subdivision)
        if team.holiday_country
        else None,
        members=members,
        calendar_url=f"/calendars/teams/{team.slug}.ics?token={team.calendar_token}",
    )


def specialist_out(spec: Specialist, teams: list[str]) -> SpecialistOut:
    """The API view of a specialist."""
    return SpecialistOut(
        id=spec.id,
        name=spec.name,
        contact=spec.contact,
        time_zone=spec.tz,
        languages=list(spec.languages),
        skills=list(spec.skills),
        teams=teams,
        active=spec.active,
        calendar_url=f"/calendars/specialists/{spec.id}.ics?token={spec.calendar_token}",
        email=spec.email,
        external_ref=spec.external_ref,
    )


async def get_team(session: AsyncSession, slug: str) -> Team:
    """A team by slug or 404."""
    team = await repository.team_by_slug(session, slug)
    if team is None:
        raise NotFound(f"team {slug!r} does not exist")
    return team


async def team_view(session: AsyncSession, team: Team) -> TeamOut:
    """A team with its members."""
    members = await repository.team_members(session, [team.id])
    return team_out(team, members.get(team.id, []))


def _apply_team(team: Team, data: TeamIn) -> None:
    team.name = data.name
    team.tz = data.time_zone
    team.languages = list(data.languages)
    team.coverage = [r.model_dump() for r in data.coverage]
    team.holiday_country = data.holidays.country if data.holidays else None
    team.holiday_subdivision = data.holidays.subdivision if data.holidays else None


async def create_team(session: AsyncSession, data: TeamIn, write: RotaWrite) -> Team:
    """Create a team."""
    if await repository.team_by_slug(session, data.slug) is not None:
        raise Conflict(f"team {data.slug!r} already exists")
    team = Team(
        slug=data.slug,
        calendar_token=new_token(),
        created_at=write.now,
        updated_at=write.now,
    )
    _apply_team(team, data)
    session.add(team)
    await session.flush()
    write.affected_teams.add(team.slug)
    after = (await team_view(session, team)).model_dump()
    await write.audit("create", "team", team.slug, None, after)
    await write.finish(after)
    return team


async def replace_team(session: AsyncSession, team: Team, data: TeamIn, write: RotaWrite) -> Team:
    """Replace a team's settings (the slug cannot change)."""
    if data.slug != team.slug:
        raise ValidationFailed(
            "a team's slug cannot change",
            errors=[{"field": "body.slug", "message": f"must stay {team.slug!r}"}],
        )
    before = (await team_view(session, team)).model_dump()
    _apply_team(team, data)
    team.updated_at = write.now
    await session.flush()
    write.affected_teams.add(team.slug)
    after = (await team_view(session, team)).model_dump()
    await write.audit("update", "team", team.slug, before, after)
    await write.finish(after)
    return team


async def delete_team(session: AsyncSession, team: Team, write: RotaWrite) -> None:
    """Delete a team that has no rotations."""
    if await session.scalar(select(Rotation.id).where(Rotation.team_id == team.id).limit(1)):
        raise Conflict(f"team {team.slug!r} has rotations; end and delete them first")
    before = (await team_view(session, team)).model_dump()
    await session.delete(team)
    await session.flush()
    await write.audit("delete", "team", team.slug, before, None)
    await write.finish(None)


async def get_specialist(session: AsyncSession, specialist_id: int) -> Specialist:
    """A specialist or 404."""
    spec = await session.get(Specialist, specialist_id)
    if spec is None:
        raise NotFound(f"specialist {specialist_id} does not exist")
    return spec


async def specialist_view(session: AsyncSession, spec: Specialist) -> SpecialistOut:
    """A specialist with their team slugs."""
    teams = await repository.specialist_teams(session, [spec.id])
    return specialist_out(spec, teams.get(spec.id, []))


async def _team_ids(session: AsyncSession, slugs: list[str]) -> dict[str, int]:
    rows = await session.execute(select(Team.slug, Team.id).where(Team.slug.in_(slugs)))
    found = {slug: tid for slug, tid in rows}
    errors = [
        {"field": f"body.teams[{i}]", "message": f"team {slug!r} does not exist"}
        for i, slug in enumerate(slugs)
        if slug not in found
    ]
    if errors:
        raise ValidationFailed("unknown team(s)", errors=errors)
    return found


async def _rotations_listing(
    session: AsyncSession, specialist_id: int, team_ids: set[int], now: datetime
) -> list[str]:
    """Names of current or future rotations of these teams that list the specialist."""
    rows = await session.execute(
        select(Rotation.name, Rotation.team_id, RotationVersionRow.members)
        .join(RotationVersionRow, RotationVersionRow.rotation_id == Rotation.id)
        .where(
            Rotation.team_id.in_(team_ids),
            or_(
                RotationVersionRow.effective_until.is_(None),
                RotationVersionRow.effective_until > now,
            ),
        )
    )
    return sorted({name for name, _, members in rows if specialist_id in members})


async def _set_teams(
    session: AsyncSession, spec: Specialist, slugs: list[str], write: RotaWrite
) -> None:
    wanted = await _team_ids(session, list(dict.fromkeys(slugs)))
    current = set((await repository.specialist_teams(session, [spec.id])).get(spec.id, []))
    leaving = current - set(wanted)
    if leaving:
        leaving_ids = {
            t.id for t in await session.scalars(select(Team).where(Team.slug.in_(leaving)))
        }
        blocking = await _rotations_listing(session, spec.id, leaving_ids, write.now)
        if blocking:
            raise Conflict(
                f"specialist {spec.id} is still a member of rotation(s) {', '.join(blocking)}; "
                "remove them from those rotations first"
            )
    await session.execute(delete(TeamMember).where(TeamMember.specialist_id == spec.id))
    for team_id in wanted.values():
        session.add(TeamMember(team_id=team_id, specialist_id=spec.id))
    write.affected_teams |= current | set(wanted)
    write.affected_specialists.add(spec.id)


def _apply_specialist(spec: Specialist, data: SpecialistIn) -> None:
    spec.name = data.name
    spec.contact = data.contact
    spec.tz = data.time_zone
    spec.languages = list(data.languages)
    spec.skills = list(data.skills)
    spec.active = data.active


async def create_specialist(
    session: AsyncSession, data: SpecialistIn, write: RotaWrite
) -> Specialist:
    """Create a specialist and their team memberships."""
    spec = Specialist(calendar_token=new_token(), created_at=write.now, updated_at=write.now)
    _apply_specialist(spec, data)
    session.add(spec)
    await session.flush()
    await _set_teams(session, spec, data.teams, write)
    await session.flush()
    after = (await specialist_view(session, spec)).model_dump()
    await write.audit("create", "specialist", spec.id, None, after)
    await write.finish(after)
    return spec


async def replace_specialist(
    session: AsyncSession, spec: Specialist, data: SpecialistIn, write: RotaWrite
) -> Specialist:
    """Replace a specialist's details and teams."""
    before = (await specialist_view(session, spec)).model_dump()
    _apply_specialist(spec, data)
    spec.updated_at = write.now
    await _set_teams(session, spec, data.teams, write)
    await session.flush()
    after = (await specialist_view(session, spec)).model_dump()
    await write.audit("update", "specialist", spec.id, before, after)
    await write.finish(after)
    return spec


async def delete_specialist(session: AsyncSession, spec: Specialist, write: RotaWrite) -> None:
    """Delete a specialist who is in no rotation (otherwise deactivate them)."""
    rows = await session.scalars(select(RotationVersionRow.members))
    if any(spec.id in members for members in rows):
        raise Conflict(
            f"specialist {spec.id} appears in rotations (their history must stay); "
            "set active: false instead"
        )
    before = (await specialist_view(session, spec)).model_dump()
    write.affected_teams |= set(before["teams"])
    write.affected_specialists.add(spec.id)
    await session.delete(spec)
    await session.flush()
    await write.audit("delete", "specialist", spec.id, before, None)
    await write.finish(None)


def rotate_token(entity: Team | Specialist, now: Any) -> None:
    """Give a calendar feed a new secret; the old link stops working."""
    entity.calendar_token = new_token()
    entity.updated_at = now
