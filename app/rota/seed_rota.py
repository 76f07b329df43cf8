"""Writing the demo rota of `switchboard seed` (the organisation is in `seed_data`).

Written through the rota services (validation, audit entries by "seed", materialised
shifts refreshed) and idempotent: teams are keyed by slug, specialists by name and
rotations by team and name; whatever already exists is left as it is. Rotations start on
the Monday four weeks before now, so the demo has history (weekends worked, days off in
lieu taken) as well as a future.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import Principal
from app.core.clock import Clock
from app.models.rota import Rotation, Specialist, Team
from app.rota import repository, rotation_service, team_service
from app.rota.seed_data import DEMO_ROTATIONS, DEMO_SPECIALISTS, DEMO_TEAMS, DemoRotation
from app.rota.wallclock import local_date
from app.rota.writes import RotaWrite

SEED_PRINCIPAL = Principal(key_id=0, name="seed", role="admin", specialist_id=None)
HISTORY = timedelta(weeks=4)


@dataclass(frozen=True)
class RotaSeedResult:
    """How many demo teams, specialists and rotations exist, and how many rows were new."""

    teams: int
    specialists: int
    rotations: int
    created: int
    # Teams this run created (a new team's weekend rota is planned: app/planning/demo.py).
    new_teams: frozenset[str] = frozenset()


def history_monday(now: datetime, tz: str) -> date:
    """The Monday four weeks before the week of `now` (in the team's zone)."""
    today = local_date(now - HISTORY, tz)
    return today - timedelta(days=today.weekday())


def _write(session: AsyncSession, now: datetime) -> RotaWrite:
    return RotaWrite(session, SEED_PRINCIPAL, now, dry_run=False)


async def _specialist_ids(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Specialist.name, Specialist.id).order_by(Specialist.id))
    ids: dict[str, int] = {}
    for name, ident in rows:
        ids.setdefault(name, ident)
    return ids


async def _seed_rotation(
    session: AsyncSession, demo: DemoRotation, ids: dict[str, int], now: datetime
) -> bool:
    team: Team | None = await repository.team_by_slug(session, demo.team)
    if team is None:
        return False
    exists = await session.scalar(
        select(Rotation.id).where(Rotation.team_id == team.id, Rotation.name == demo.name)
    )
    if exists is not None:
        return False
    # Someone may have moved a demo person to another team since: leave them out.
    in_team = set((await repository.team_members(session, [team.id])).get(team.id, []))
    members = [ids[n] for n in demo.members if n in ids and ids[n] in in_team]
    if not members:
        return False
    payload = demo.payload(members, history_monday(now, team.tz), team.tz)
    await rotation_service.create_rotation(session, payload, _write(session, now), allow_past=True)
    return True


async def seed_rota(session: AsyncSession, clock: Clock) -> RotaSeedResult:
    """Create whatever of the demo rota is missing; returns what exists and what was new."""
    now = clock.now()
    created = 0
    new_teams: set[str] = set()
    for team in DEMO_TEAMS:
        if await repository.team_by_slug(session, team.slug) is None:
            await team_service.create_team(session, team.payload(), _write(session, now))
            created += 1
            new_teams.add(team.slug)
    ids = await _specialist_ids(session)
    for person in DEMO_SPECIALISTS:
        if person.name not in ids:
            row = await team_service.create_specialist(
                session, person.payload(), _write(session, now)
            )
            ids[person.name] = row.id
            created += 1
    for rotation in DEMO_ROTATIONS:
        created += int(await _seed_rotation(session, rotation, ids, now))
    team_ids = {
        slug: tid
        for slug, tid in await session.execute(
            select(Team.slug, Team.id).where(Team.slug.in_([t.slug for t in DEMO_TEAMS]))
        )
    }
    names = {
        (team_id, name)
        for team_id, name in await session.execute(
            select(Rotation.team_id, Rotation.name).where(
                Rotation.team_id.in_(list(team_ids.values()))
            )
        )
    }
    return RotaSeedResult(
        teams=len(team_ids),
        specialists=sum(1 for p in DEMO_SPECIALISTS if p.name in ids),
        rotations=sum(1 for r in DEMO_ROTATIONS if (team_ids.get(r.team), r.name) in names),
        created=created,
        new_teams=frozenset(new_teams),
    )
