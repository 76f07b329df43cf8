"""Rotations: create, change from an instant (a new version), end; the past stays as it was."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from app.core.errors import NotFound, ValidationFailed
from app.models.rota import Rotation, RotationVersionRow, Team
from app.rota import repository
from app.rota.schemas import (
    RotationIn,
    RotationOut,
    RotationRules,
    RotationUpdate,
    RotationVersionOut,
    weekday_names,
    weekday_numbers,
)
from app.rota.wallclock import local_date
from app.rota.writes import RotaWrite, require_not_past


def version_out(row: RotationVersionRow) -> RotationVersionOut:
    """The API view of one version."""
    return RotationVersionOut(
        seq=row.seq,
        members=list(row.members),
        days=weekday_names(row.days),
        start=row.start_time,
        end=row.end_time,
        length_days=row.length_days,
        every_weeks=row.every_weeks,
        assignment=row.assignment,
        per_occurrence=row.per_occurrence,
        turn_offset=row.turn_offset,
        run_on_holidays=row.run_on_holidays,
        earns_lieu=row.earns_lieu,
        lieu_rule=row.lieu_rule,
        effective_from=row.effective_from,
        effective_until=row.effective_until,
    )


async def rotation_view(session: AsyncSession, rotation: Rotation, now: datetime) -> RotationOut:
    """A rotation with the version in force now (or next) and its history."""
    team = await session.get(Team, rotation.team_id)
    assert team is not None
    versions = [version_out(v) for v in await repository.rotation_versions(session, rotation.id)]
    current = next(
        (
            v
            for v in versions
            if v.effective_from <= now and (v.effective_until is None or v.effective_until > now)
        ),
        next((v for v in versions if v.effective_from > now), None),
    )
    return RotationOut(
        id=rotation.id,
        team=team.slug,
        name=rotation.name,
        starts_on=rotation.anchor,
        current=current,
        versions=versions,
    )


async def get_rotation(session: AsyncSession, rotation_id: int) -> Rotation:
    """A rotation or 404."""
    rotation = await session.get(Rotation, rotation_id)
    if rotation is None:
        raise NotFound(f"rotation {rotation_id} does not exist")
    return rotation


async def _check_members(session: AsyncSession, team: Team, members: list[int]) -> None:
    in_team = set((await repository.team_members(session, [team.id])).get(team.id, []))
    errors = [
        {
            "field": f"body.members[{i}]",
            "message": f"specialist {m} is not a member of team {team.slug!r}",
        }
        for i, m in enumerate(members)
        if m not in in_team
    ]
    if errors:
        raise ValidationFailed("rotation members must belong to the team", errors=errors)


def _check_window(effective_from: datetime, until: datetime | None) -> None:
    if until is not None and until <= effective_from:
        raise ValidationFailed(
            "effective_until must be after effective_from",
            errors=[{"field": "body.effective_until", "message": "not after effective_from"}],
        )


async def _claim(session: AsyncSession, rotation: Rotation, now: datetime) -> None:
    """Bump the rotation's version (its ETag) before touching its versions.

    Flagged as modified so the UPDATE happens even when updated_at keeps its value (two
    edits within one clock tick), and a racing edit with the same ETag fails here with a
    stale version (412) rather than colliding on the next version number.
    """
    rotation.updated_at = now
    flag_modified(rotation, "updated_at")
    await session.flush()


def _version_row(
    rotation_id: int, seq: int, rules: RotationRules, start: datetime, now: datetime
) -> RotationVersionRow:
    return RotationVersionRow(
        rotation_id=rotation_id,
        seq=seq,
        members=list(rules.members),
        days=sorted(weekday_numbers(list(rules.days))),
        start_time=rules.start,
        end_time=rules.end,
        length_days=rules.length_days,
        every_weeks=rules.every_weeks,
        assignment=rules.assignment,
        per_occurrence=rules.per_occurrence,
        turn_offset=rules.turn_offset,
        run_on_holidays=rules.run_on_holidays,
        earns_lieu=rules.earns_lieu,
        lieu_rule=rules.lieu_rule if rules.earns_lieu else None,
        effective_from=start,
        effective_until=rules.effective_until,
        created_at=now,
    )


async def create_rotation(
    session: AsyncSession, data: RotationIn, write: RotaWrite, *, allow_past: bool
) -> Rotation:
    """Create a rotation effective from an instant (default now)."""
    team = await repository.team_by_slug(session, data.team)
    if team is None:
        raise ValidationFailed(
            f"team {data.team!r} does not exist",
            errors=[{"field": "body.team", "message": "no such team"}],
        )
    start = data.effective_from or write.now
    require_not_past(start, write.now, allow_past, "body.effective_from")
    _check_window(start, data.effective_until)
    await _check_members(session, team, data.members)
    rotation = Rotation(
        team_id=team.id,
        name=data.name,
        anchor=data.starts_on or local_date(start, team.tz),
        created_at=write.now,
        updated_at=write.now,
    )
    session.add(rotation)
    await session.flush()
    session.add(_version_row(rotation.id, 1, data, start, write.now))
    await session.flush()
    write.affected_teams.add(team.slug)
    after = (await rotation_view(session, rotation, write.now)).model_dump()
    await write.audit("create", "rotation", rotation.id, None, after, effective_from=start)
    await write.finish(after)
    return rotation


async def _close_at(session: AsyncSession, rotation: Rotation, at: datetime) -> None:
    """End every version at `at`: the one running then is cut, later ones are dropped."""
    await session.execute(
        delete(RotationVersionRow).where(
            RotationVersionRow.rotation_id == rotation.id,
            RotationVersionRow.effective_from >= at,
        )
    )
    running = await session.scalars(
        select(RotationVersionRow).where(
            RotationVersionRow.rotation_id == rotation.id,
            RotationVersionRow.effective_from < at,
        )
    )
    for row in running:
        if row.effective_until is None or row.effective_until > at:
            row.effective_until = at


async def change_rotation(
    session: AsyncSession,
    rotation: Rotation,
    data: RotationUpdate,
    write: RotaWrite,
    *,
    allow_past: bool,
) -> Rotation:
    """New rules from an instant (default now): shifts that started before it stay as they were."""
    team = await session.get(Team, rotation.team_id)
    assert team is not None
    start = data.effective_from or write.now
    require_not_past(start, write.now, allow_past, "body.effective_from")
    _check_window(start, data.effective_until)
    await _check_members(session, team, data.members)
    before = (await rotation_view(session, rotation, write.now)).model_dump()
    await _claim(session, rotation, write.now)
    seq = max((v.seq for v in await repository.rotation_versions(session, rotation.id)), default=0)
    await _close_at(session, rotation, start)
    await session.flush()
    session.add(_version_row(rotation.id, seq + 1, data, start, write.now))
    if data.name:
        rotation.name = data.name
    rotation.updated_at = write.now
    await session.flush()
    write.affected_teams.add(team.slug)
    after = (await rotation_view(session, rotation, write.now)).model_dump()
    await write.audit("update", "rotation", rotation.id, before, after, effective_from=start)
    await write.finish(after)
    return rotation


async def end_rotation(
    session: AsyncSession,
    rotation: Rotation,
    at: datetime | None,
    write: RotaWrite,
    *,
    allow_past: bool,
) -> Rotation:
    """Stop a rotation from an instant (default now); its history stays."""
    team = await session.get(Team, rotation.team_id)
    assert team is not None
    end = at or write.now
    require_not_past(end, write.now, allow_past, "query.effective_from")
    before = (await rotation_view(session, rotation, write.now)).model_dump()
    await _claim(session, rotation, write.now)
    await _close_at(session, rotation, end)
    rotation.updated_at = write.now
    await session.flush()
    write.affected_teams.add(team.slug)
    after = (await rotation_view(session, rotation, write.now)).model_dump()
    await write.audit("end", "rotation", rotation.id, before, after, effective_from=end)
    await write.finish(after)
    return rotation
