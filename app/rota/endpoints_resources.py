"""`/v1/teams`, `/v1/specialists`, `/v1/rotations`: the rota's resources."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel
from sqlalchemy import and_, select

from app.auth.deps import RotaReader
from app.auth.service import Principal
from app.core.deps import ClockDep, DbSession
from app.core.errors import ValidationFailed
from app.core.pagination import Limit, Page, id_cursor, next_page
from app.core.types import DbId, Instant
from app.models.rota import Rotation, Specialist, Team, TeamMember
from app.rota import repository, rotation_service, team_service
from app.rota.deps import AllowPast, IfMatch, Write
from app.rota.schemas import (
    RotationIn,
    RotationOut,
    RotationUpdate,
    SpecialistIn,
    SpecialistOut,
    SpecialistReplace,
    TeamIn,
    TeamOut,
    TeamReplace,
)
from app.rota.writes import check_if_match, etag, require_aware_query

router = APIRouter(prefix="/v1", tags=["rota"])


def _team_etag(team: Team) -> str:
    return etag("team", team.slug, team.version)


def _specialist_etag(spec: Specialist) -> str:
    return etag("specialist", spec.id, spec.version)


def _rotation_etag(rotation: Rotation) -> str:
    return etag("rotation", rotation.id, rotation.version)


def _hide_team_link(out: TeamOut, principal: Principal) -> TeamOut:
    """A calendar link is a credential: specialist keys do not see team feed links."""
    return out.model_copy(update={"calendar_url": None}) if principal.role == "specialist" else out


def _hide_specialist_link(out: SpecialistOut, principal: Principal) -> SpecialistOut:
    """A specialist key sees its own feed link only."""
    if principal.role == "specialist" and principal.specialist_id != out.id:
        return out.model_copy(update={"calendar_url": None})
    return out


READ_ONLY_TEAM = ("id", "members", "calendar_url")
READ_ONLY_SPECIALIST = ("id", "calendar_url", "email", "external_ref")


def check_read_only(body: BaseModel, current: BaseModel, names: tuple[str, ...]) -> None:
    """422 naming every read-only field the body sets to something other than its value."""
    changed = [
        n for n in names if n in body.model_fields_set and getattr(body, n) != getattr(current, n)
    ]
    if changed:
        raise ValidationFailed(
            f"read-only field(s) {', '.join(changed)} cannot be changed here",
            errors=[
                {"field": f"body.{n}", "message": "read-only; send it unchanged or leave it out"}
                for n in changed
            ],
        )


@router.get("/teams", response_model=Page[TeamOut])
async def list_teams(
    session: DbSession, principal: RotaReader, cursor: str | None = None, limit: Limit = 50
) -> Page[TeamOut]:
    """Teams by id, one page at a time."""
    query = select(Team).order_by(Team.id).limit(limit + 1)
    after = id_cursor(cursor, "after_id")
    if after is not None:
        query = query.where(Team.id > after)
    teams, next_cursor = next_page(
        list(await session.scalars(query)), limit, lambda t: {"after_id": t.id}
    )
    members = await repository.team_members(session, [t.id for t in teams])
    return Page[TeamOut](
        items=[
            _hide_team_link(team_service.team_out(t, members.get(t.id, [])), principal)
            for t in teams
        ],
        next_cursor=next_cursor,
    )


@router.post("/teams", status_code=status.HTTP_201_CREATED, response_model=TeamOut)
async def create_team(
    body: TeamIn, session: DbSession, write: Write, response: Response
) -> TeamOut:
    """Create a team."""
    team = await team_service.create_team(session, body, write)
    response.headers["ETag"] = _team_etag(team)
    response.headers["Location"] = f"/v1/teams/{team.slug}"
    return await team_service.team_view(session, team)


@router.get("/teams/{slug}", response_model=TeamOut)
async def get_team(
    slug: str, session: DbSession, principal: RotaReader, response: Response
) -> TeamOut:
    """One team."""
    team = await team_service.get_team(session, slug)
    response.headers["ETag"] = _team_etag(team)
    return _hide_team_link(await team_service.team_view(session, team), principal)


@router.put("/teams/{slug}", response_model=TeamOut)
async def replace_team(
    slug: str,
    body: TeamReplace,
    session: DbSession,
    write: Write,
    response: Response,
    if_match: IfMatch = None,
) -> TeamOut:
    """Replace a team's settings (If-Match required); takes the body GET returns."""
    team = await team_service.get_team(session, slug)
    check_if_match(if_match, _team_etag(team))
    check_read_only(body, await team_service.team_view(session, team), READ_ONLY_TEAM)
    data = TeamIn.model_validate(body.model_dump(exclude=set(READ_ONLY_TEAM)))
    await team_service.replace_team(session, team, data, write)
    response.headers["ETag"] = _team_etag(team)
    return await team_service.team_view(session, team)


@router.delete("/teams/{slug}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_team(
    slug: str, session: DbSession, write: Write, if_match: IfMatch = None
) -> Response:
    """Delete a team without rotations (If-Match required)."""
    team = await team_service.get_team(session, slug)
    check_if_match(if_match, _team_etag(team))
    await team_service.delete_team(session, team, write)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/teams/{slug}/calendar-token", response_model=TeamOut)
async def rotate_team_calendar_token(
    slug: str, session: DbSession, write: Write, response: Response
) -> TeamOut:
    """Give the team's calendar feed a new secret link; the old one stops working."""
    team = await team_service.get_team(session, slug)
    team_service.rotate_token(team, write.now)
    await session.flush()
    await write.audit("rotate-token", "team", team.slug, None, None)
    await write.finish(None)
    response.headers["ETag"] = _team_etag(team)
    return await team_service.team_view(session, team)


@router.get("/specialists", response_model=Page[SpecialistOut])
async def list_specialists(
    session: DbSession,
    principal: RotaReader,
    team: str | None = None,
    active: bool | None = None,
    language: str | None = None,
    skill: str | None = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> Page[SpecialistOut]:
    """Specialists by id, filtered by team, active flag, language or skill; paginated."""
    query = select(Specialist).order_by(Specialist.id)
    if team is not None:
        query = query.join(TeamMember, TeamMember.specialist_id == Specialist.id).join(
            Team, and_(Team.id == TeamMember.team_id, Team.slug == team)
        )
    if active is not None:
        query = query.where(Specialist.active.is_(active))
    after = id_cursor(cursor, "after_id")
    found: list[Specialist] = []
    # Languages and skills are JSON lists: filter them here, reading on until the page is full.
    while len(found) <= limit:
        chunk_query = query.limit(4 * limit)
        if after is not None:
            chunk_query = chunk_query.where(Specialist.id > after)
        chunk = list(await session.scalars(chunk_query))
        if not chunk:
            break
        after = chunk[-1].id
        found += [
            p
            for p in chunk
            if (language is None or language in p.languages)
            and (skill is None or skill in p.skills)
        ]
    people, next_cursor = next_page(found, limit, lambda p: {"after_id": p.id})
    teams = await repository.specialist_teams(session, [p.id for p in people])
    return Page[SpecialistOut](
        items=[
            _hide_specialist_link(team_service.specialist_out(p, teams.get(p.id, [])), principal)
            for p in people
        ],
        next_cursor=next_cursor,
    )


@router.post("/specialists", status_code=status.HTTP_201_CREATED, response_model=SpecialistOut)
async def create_specialist(
    body: SpecialistIn, session: DbSession, write: Write, response: Response
) -> SpecialistOut:
    """Create a specialist."""
    spec = await team_service.create_specialist(session, body, write)
    response.headers["ETag"] = _specialist_etag(spec)
    response.headers["Location"] = f"/v1/specialists/{spec.id}"
    return await team_service.specialist_view(session, spec)


@router.get("/specialists/{specialist_id}", response_model=SpecialistOut)
async def get_specialist(
    specialist_id: DbId, session: DbSession, principal: RotaReader, response: Response
) -> SpecialistOut:
    """One specialist."""
    spec = await team_service.get_specialist(session, specialist_id)
    response.headers["ETag"] = _specialist_etag(spec)
    return _hide_specialist_link(await team_service.specialist_view(session, spec), principal)


@router.put("/specialists/{specialist_id}", response_model=SpecialistOut)
async def replace_specialist(
    specialist_id: DbId,
    body: SpecialistReplace,
    session: DbSession,
    write: Write,
    response: Response,
    if_match: IfMatch = None,
) -> SpecialistOut:
    """Replace a specialist's details and teams (If-Match required); takes what GET returns."""
    spec = await team_service.get_specialist(session, specialist_id)
    check_if_match(if_match, _specialist_etag(spec))
    current = await team_service.specialist_view(session, spec)
    check_read_only(body, current, READ_ONLY_SPECIALIST)
    data = SpecialistIn.model_validate(body.model_dump(exclude=set(READ_ONLY_SPECIALIST)))
    await team_service.replace_specialist(session, spec, data, write)
    response.headers["ETag"] = _specialist_etag(spec)
    return await team_service.specialist_view(session, spec)


@router.delete("/specialists/{specialist_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_specialist(
    specialist_id: DbId, session: DbSession, write: Write, if_match: IfMatch = None
) -> Response:
    """Delete a specialist who is in no rotation (If-Match required)."""
    spec = await team_service.get_specialist(session, specialist_id)
    check_if_match(if_match, _specialist_etag(spec))
    await team_service.delete_specialist(session, spec, write)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/specialists/{specialist_id}/calendar-token", response_model=SpecialistOut)
async def rotate_specialist_calendar_token(
    specialist_id: DbId, session: DbSession, write: Write, response: Response
) -> SpecialistOut:
    """Give the specialist's calendar feed a new secret link; the old one stops working."""
    spec = await team_service.get_specialist(session, specialist_id)
    team_service.rotate_token(spec, write.now)
    await session.flush()
    await write.audit("rotate-token", "specialist", spec.id, None, None)
    await write.finish(None)
    response.headers["ETag"] = _specialist_etag(spec)
    return await team_service.specialist_view(session, spec)


@router.get("/rotations", response_model=Page[RotationOut])
async def list_rotations(
    session: DbSession,
    clock: ClockDep,
    _: RotaReader,
    team: str | None = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> Page[RotationOut]:
    """Rotations by id, optionally of one team; paginated."""
    query = select(Rotation).order_by(Rotation.id).limit(limit + 1)
    if team is not None:
        query = query.join(Team, Team.id == Rotation.team_id).where(Team.slug == team)
    after = id_cursor(cursor, "after_id")
    if after is not None:
        query = query.where(Rotation.id > after)
    rotations, next_cursor = next_page(
        list(await session.scalars(query)), limit, lambda r: {"after_id": r.id}
    )
    now = clock.now()
    return Page[RotationOut](
        items=[await rotation_service.rotation_view(session, r, now) for r in rotations],
        next_cursor=next_cursor,
    )


@router.post("/rotations", status_code=status.HTTP_201_CREATED, response_model=RotationOut)
async def create_rotation(
    body: RotationIn,
    session: DbSession,
    write: Write,
    response: Response,
    allow_past: AllowPast = False,
) -> RotationOut:
    """Create a rotation, effective from `effective_from` (default now)."""
    rotation = await rotation_service.create_rotation(session, body, write, allow_past=allow_past)
    response.headers["ETag"] = _rotation_etag(rotation)
    response.headers["Location"] = f"/v1/rotations/{rotation.id}"
    return await rotation_service.rotation_view(session, rotation, write.now)


@router.get("/rotations/{rotation_id}", response_model=RotationOut)
async def get_rotation(
    rotation_id: DbId, session: DbSession, clock: ClockDep, _: RotaReader, response: Response
) -> RotationOut:
    """One rotation with its versions."""
    rotation = await rotation_service.get_rotation(session, rotation_id)
    response.headers["ETag"] = _rotation_etag(rotation)
    return await rotation_service.rotation_view(session, rotation, clock.now())


@router.put("/rotations/{rotation_id}", response_model=RotationOut)
async def change_rotation(
    rotation_id: DbId,
    body: RotationUpdate,
    session: DbSession,
    write: Write,
    response: Response,
    if_match: IfMatch = None,
    allow_past: AllowPast = False,
) -> RotationOut:
    """New rules from `effective_from` (default now); shifts already started stay."""
    rotation = await rotation_service.get_rotation(session, rotation_id)
    check_if_match(if_match, _rotation_etag(rotation))
    await rotation_service.change_rotation(session, rotation, body, write, allow_past=allow_past)
    response.headers["ETag"] = _rotation_etag(rotation)
    return await rotation_service.rotation_view(session, rotation, write.now)


@router.delete("/rotations/{rotation_id}", response_model=RotationOut)
async def end_rotation(
    rotation_id: DbId,
    session: DbSession,
    write: Write,
    response: Response,
    effective_from: Annotated[Instant | None, Query()] = None,
    if_match: IfMatch = None,
    allow_past: AllowPast = False,
) -> RotationOut:
    """End a rotation from `effective_from` (default now); its history stays."""
    rotation = await rotation_service.get_rotation(session, rotation_id)
    check_if_match(if_match, _rotation_etag(rotation))
    require_aware_query(effective_from, "effective_from")
    await rotation_service.end_rotation(
        session, rotation, effective_from, write, allow_past=allow_past
    )
    response.headers["ETag"] = _rotation_etag(rotation)
    return await rotation_service.rotation_view(session, rotation, write.now)
