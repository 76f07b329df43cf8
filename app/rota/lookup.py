"""Who is on shift now: the indexed lookup routing calls on every incoming call."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.rota import ShiftInstance, Specialist, Team
from app.rota import materialise
from app.rota.calculator import on_shift_at
from app.rota.coverage import rule_windows
from app.rota.repository import coverage_rules, load_snapshot, team_by_slug, team_holidays


@dataclass(frozen=True)
class OnShift:
    """A specialist on shift at an instant, with the shift that puts them there."""

    specialist_id: int
    name: str
    contact: str
    languages: tuple[str, ...]
    skills: tuple[str, ...]
    team: str
    starts_at: datetime
    ends_at: datetime
    local_date: date
    source_kind: str
    rotation_id: int | None
    override_id: int | None
    covering_for: int | None
    key: str


def _matches(spec: Specialist, language: str | None, skill: str | None) -> bool:
    if not spec.active:
        return False
    if language is not None and language not in spec.languages:
        return False
    return skill is None or skill in spec.skills


def _entry(
    spec: Specialist,
    team: str,
    when: tuple[datetime, datetime, date],
    source: tuple[str, int | None, int | None, int | None],
    key: str,
) -> OnShift:
    starts_at, ends_at, local_day = when
    kind, rotation_id, override_id, covering_for = source
    return OnShift(
        specialist_id=spec.id,
        name=spec.name,
        contact=spec.contact,
        languages=tuple(spec.languages),
        skills=tuple(spec.skills),
        team=team,
        starts_at=starts_at,
        ends_at=ends_at,
        local_date=local_day,
        source_kind=kind,
        rotation_id=rotation_id,
        override_id=override_id,
        covering_for=covering_for,
        key=key,
    )


async def on_shift(
    session: AsyncSession,
    at: datetime,
    *,
    team: str | None = None,
    language: str | None = None,
    skill: str | None = None,
) -> list[OnShift]:
    """Shifts running at `at` (optionally of one team, language, skill), by start then name."""
    win = await materialise.window(session)
    out: list[OnShift] = []
    if materialise.covers(win, at):
        query = (
            select(ShiftInstance, Specialist, Team.slug)
            .join(Specialist, Specialist.id == ShiftInstance.specialist_id)
            .join(Team, Team.id == ShiftInstance.team_id)
            .where(
                ShiftInstance.starts_at > at - materialise.MAX_SHIFT,
                ShiftInstance.starts_at <= at,
                ShiftInstance.ends_at > at,
                Specialist.active.is_(True),
            )
        )
        if team is not None:
            query = query.where(Team.slug == team)
        for row, spec, slug in await session.execute(query):
            if _matches(spec, language, skill):
                out.append(
                    _entry(
                        spec,
                        slug,
                        (row.starts_at, row.ends_at, row.local_date),
                        (row.source_kind, row.rotation_id, row.override_id, row.covering_for),
                        row.key,
                    )
                )
    else:
        if team is not None and await team_by_slug(session, team) is None:
            return []
        snapshot = await load_snapshot(session, at - timedelta(days=1), at + timedelta(days=1))
        shifts = await asyncio.to_thread(on_shift_at, snapshot.rota, at, team=team)
        people = {
            s.id: s
            for s in await session.scalars(
                select(Specialist).where(Specialist.id.in_({s.specialist_id for s in shifts}))
            )
        }
        for shift in shifts:
            spec = people[shift.specialist_id]
            if _matches(spec, language, skill):
                src = shift.source
                out.append(
                    _entry(
                        spec,
                        shift.team,
                        (shift.start, shift.end, shift.local_date),
                        (src.kind, src.rotation_id, src.override_id, src.covering_for),
                        shift.key,
                    )
                )
    out.sort(key=lambda o: (o.starts_at, o.team, o.name, o.specialist_id))
    return out


async def team_open(session: AsyncSession, team_slug: str, at: datetime) -> bool:
    """Whether the team is open: inside a coverage rule's hours and not a team holiday.

    A team without coverage rules is open whenever someone is on shift.
    """
    team = await team_by_slug(session, team_slug)
    if team is None:
        return False
    rules = coverage_rules(team)
    if not rules:
        return bool(await on_shift(session, at, team=team_slug))
    holidays = team_holidays(team, range(at.year - 1, at.year + 2))
    probe_end = at + timedelta(seconds=1)
    return any(rule_windows(rule, team.tz, holidays, at, probe_end) for rule in rules)
