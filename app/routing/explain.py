"""`/v1/routing/explain`: who would be rung now, in order, and why everyone else would not.

Team members who are not on shift are told apart with the shift calculator: a person
whose shift the lieu step removed has a day off (in lieu or by hand), one whose shift
only a leave override removed is on leave, anyone else is simply off shift.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.rota import Specialist, Team, TeamMember
from app.rota.calculator import Rota, days_off, on_shift_at
from app.rota.overrides import pre_lieu_shifts
from app.rota.repository import load_snapshot
from app.routing.decide import Decision, RouteRequest, consider

INSTANT = timedelta(microseconds=1)
_STATUS_CODES = {
    "busy": "busy",
    "held": "held_for_queue",
    "lacks_language": "lacks_language",
    "no_contact": "no_contact",
    "already_rung": "already_rung",
    "away": "away",
}


@dataclass(frozen=True)
class Excluded:
    """A team member who would not be rung, and why."""

    specialist_id: int
    name: str
    reason: str  # a code: off_shift, on_leave, day_off_in_lieu, day_off, busy, ...
    detail: str


def absences(rota: Rota, team: str, at: datetime, members: list[int]) -> dict[int, tuple[str, str]]:
    """Why members of a team are not on shift at `at`: {specialist: (code, detail)}."""

    def running(r: Rota) -> set[int]:
        return {
            s.specialist_id
            for s in pre_lieu_shifts(r, at, at + INSTANT)
            if s.team == team and s.start <= at < s.end
        }

    on_shift = {s.specialist_id for s in on_shift_at(rota, at, team=team)}
    before_lieu = running(rota)
    without_leave = running(
        replace(rota, overrides=tuple(o for o in rota.overrides if o.kind != "leave"))
    )
    day_offs = {d.specialist_id: d for d in days_off(rota, at, at + INSTANT)}
    found: dict[int, tuple[str, str]] = {}
    for sid in members:
        if sid in on_shift:
            continue
        if not rota.is_active(sid):
            found[sid] = ("inactive", "deactivated")
        elif sid in before_lieu:
            off = day_offs.get(sid)
            if off is not None and off.source == "manual":
                found[sid] = ("day_off", f"day off on {off.day}")
            else:
                day = f" on {off.day}" if off is not None else ""
                found[sid] = ("day_off_in_lieu", f"day off in lieu{day}")
        elif sid in without_leave:
            found[sid] = ("on_leave", "on leave")
        else:
            found[sid] = ("off_shift", "not on shift now")
    return found


@dataclass(frozen=True)
class Explanation:
    """A routing decision and every team member it leaves out."""

    decision: Decision
    excluded: tuple[Excluded, ...]


async def explain(
    session: AsyncSession, request: RouteRequest, *, at: datetime, exclude: Collection[int] = ()
) -> Explanation:
    """Who would be rung at `at` for a call needing this route, and why not the others."""
    decision = await consider(session, request, now=at, exclude=exclude)
    excluded = [
        Excluded(c.person.specialist_id, c.person.name, _STATUS_CODES[c.status], c.reason)
        for c in decision.considered
        if c.status != "candidate"
    ]
    rows = (
        await session.execute(
            select(Specialist.id, Specialist.name)
            .join(TeamMember, TeamMember.specialist_id == Specialist.id)
            .join(Team, Team.id == TeamMember.team_id)
            .where(Team.slug == request.team)
            .order_by(Specialist.id)
        )
    ).all()
    considered = {c.person.specialist_id for c in decision.considered}
    absent = [(sid, name) for sid, name in rows if sid not in considered]
    if absent:
        snapshot = await load_snapshot(session, at - timedelta(days=1), at + timedelta(days=1))
        reasons = await asyncio.to_thread(
            absences, snapshot.rota, request.team, at, [sid for sid, _ in absent]
        )
        for sid, name in absent:
            code, detail = reasons.get(sid, ("off_shift", "not on shift now"))
            excluded.append(Excluded(sid, name, code, detail))
    return Explanation(decision, tuple(excluded))


def explanation_lines(found: Explanation) -> list[str]:
    """The explanation as text: candidates in ringing order, then everyone left out."""
    lines = [
        f"{i}. {c.person.name} (#{c.person.specialist_id}): {c.reason}"
        for i, c in enumerate(
            (c for c in found.decision.considered if c.status == "candidate"), start=1
        )
    ]
    lines += [f"-  {e.name} (#{e.specialist_id}): {e.reason}: {e.detail}" for e in found.excluded]
    return lines
