"""A team's console settings (wallboard thresholds, swap approval): read and change them,
with the change in the team's audit trail, from the API and the console alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import Principal
from app.models.console import TeamConsoleSettings
from app.models.rota import Team
from app.rota import audit

FIELDS = (
    "wait_amber_seconds",
    "wait_red_seconds",
    "service_level_amber",
    "service_level_red",
    "swaps_need_approval",
)
# A team that never set them has the table's column defaults.
DEFAULTS: dict[str, Any] = {
    name: TeamConsoleSettings.__table__.c[name].default.arg for name in FIELDS
}


def values_of(row: TeamConsoleSettings | None) -> dict[str, Any]:
    """Every setting's value (the defaults for a team that never set them)."""
    if row is None:
        return dict(DEFAULTS)
    return {name: getattr(row, name) for name in FIELDS}


async def current(session: AsyncSession, team: Team) -> dict[str, Any]:
    """The team's settings now."""
    return values_of(await session.get(TeamConsoleSettings, team.id))


async def change(
    session: AsyncSession,
    principal: Principal,
    team: Team,
    changes: dict[str, Any],
    *,
    now: datetime,
) -> dict[str, Any]:
    """Set some of the team's settings; what changed goes to the audit trail. Returns all."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown console settings: {sorted(unknown)}")
    row = await session.get(TeamConsoleSettings, team.id)
    before = values_of(row)
    if row is None:
        row = TeamConsoleSettings(team_id=team.id, updated_at=now, **DEFAULTS)
        session.add(row)
    changed = {name: value for name, value in changes.items() if before[name] != value}
    for name, value in changed.items():
        setattr(row, name, value)
    if changed:
        row.updated_at = now
        await audit.record(
            session,
            principal=principal,
            at=now,
            action="update",
            resource_type="team",
            resource_id=team.slug,
            before={"console_settings": {n: before[n] for n in changed}},
            after={"console_settings": changed},
        )
    await session.flush()
    return values_of(row)
