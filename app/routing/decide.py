"""One routing decision: everyone on shift in a team, in ringing order, each with a status.

`consider` reads only; the webhook driver then reserves the first candidates atomically
(app.routing.presence), `switchboard simulate` and `/v1/routing/explain` print it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.phone import contact_kind
from app.models.call import RingAttempt
from app.rota.lookup import on_shift
from app.rota.repository import team_by_slug
from app.routing import presence
from app.routing.order import Person, Strategy, order
from app.routing.queue import Place, held_for_others, priority_of, waiting_ahead

Status = Literal["candidate", "busy", "held", "already_rung", "lacks_language", "no_contact"]


@dataclass(frozen=True)
class RouteRequest:
    """What a route step asks for."""

    team: str
    language: str
    skill: str | None = None
    tier: str = "standard"
    strategy: Strategy = "longest_idle"
    batch_size: int = 2


@dataclass(frozen=True)
class Considered:
    """One person on shift in the team and whether they can be rung now."""

    person: Person
    status: Status
    reason: str


@dataclass(frozen=True)
class Decision:
    """Everyone on shift in the team: candidates first, in ringing order, then the rest."""

    request: RouteRequest
    team_exists: bool
    serves_language: bool
    considered: tuple[Considered, ...]

    @property
    def candidates(self) -> list[Person]:
        """Who may be rung now, in order."""
        return [c.person for c in self.considered if c.status == "candidate"]

    @property
    def could_wait(self) -> bool:
        """Someone who could take the call is busy or kept for a caller ahead in line."""
        return any(c.status in ("busy", "held") for c in self.considered)


async def _last_offered(session: AsyncSession, team: str) -> int | None:
    found: int | None = await session.scalar(
        select(RingAttempt.specialist_id)
        .where(RingAttempt.team == team, RingAttempt.specialist_id.is_not(None))
        .order_by(RingAttempt.id.desc())
        .limit(1)
    )
    return found


async def consider(
    session: AsyncSession,
    request: RouteRequest,
    *,
    now: datetime,
    call_id: int | None = None,
    exclude: Collection[int] = (),
    place: Place | None = None,
) -> Decision:
    """Who would be rung now for a call needing this route, and why the others would not."""
    team = await team_by_slug(session, request.team)
    if team is None:
        return Decision(request, False, False, ())
    serves = not team.languages or request.language in team.languages
    shifts = await on_shift(session, now, team=request.team)
    people: dict[int, Person] = {}
    for shift in shifts:
        if shift.specialist_id in people:
            continue
        when = f"{shift.starts_at:%a %H:%M}-{shift.ends_at:%a %H:%M} UTC"
        source = shift.source_kind + (
            f" for specialist {shift.covering_for}" if shift.covering_for else ""
        )
        people[shift.specialist_id] = Person(
            specialist_id=shift.specialist_id,
            name=shift.name,
            contact=shift.contact,
            team=shift.team,
            languages=shift.languages,
            skills=shift.skills,
            idle_since=None,
            shift=f"on shift in {shift.team} {when} ({source})",
        )
    idle = await presence.idle_since(session, people)
    people = {
        sid: Person(**{**p.__dict__, "idle_since": idle.get(sid)}) for sid, p in people.items()
    }
    busy = await presence.taken(session, people, now=now, call_id=call_id)
    statuses: dict[int, tuple[Status, str]] = {}
    for sid, person in people.items():
        if serves and request.language not in person.languages:
            statuses[sid] = ("lacks_language", f"does not speak {request.language}")
        elif contact_kind(person.contact) is None:
            statuses[sid] = ("no_contact", f"contact {person.contact!r} cannot be dialled")
        elif sid in exclude:
            statuses[sid] = ("already_rung", "already rung for this call")
        elif sid in busy:
            row = busy[sid]
            doing = "on a call" if row.state == "busy" else "being rung for another call"
            statuses[sid] = ("busy", doing)
        else:
            statuses[sid] = ("candidate", "")
    last = await _last_offered(session, request.team) if request.strategy == "round_robin" else None
    ranked = order(
        list(people.values()),
        language=request.language,
        skill=request.skill,
        strategy=request.strategy,
        last_offered=last,
    )
    free = [
        (p.specialist_id, p.languages)
        for p in ranked
        if statuses[p.specialist_id][0] == "candidate"
    ]
    if free:
        place = place or Place(call_id, priority_of(request.tier), now)
        ahead = await waiting_ahead(session, request.team, place)
        held = await held_for_others(session, ahead, free, serves_all_languages=not team.languages)
        for sid, entry in held.items():
            tier = "paid" if entry.priority > 0 else "standard"
            statuses[sid] = (
                "held",
                f"kept for a {tier} caller waiting since {entry.enqueued_at:%H:%M:%S} UTC",
            )
    considered: list[Considered] = []
    for person in ranked:
        status, reason = statuses[person.specialist_id]
        if status == "candidate":
            reason = _why(person, request, serves)
        considered.append(Considered(person, status, reason))
    considered.sort(key=lambda c: c.status != "candidate")
    return Decision(request, True, serves, tuple(considered))


def _why(person: Person, request: RouteRequest, serves: bool) -> str:
    parts = [person.shift]
    if request.language in person.languages:
        parts.append(f"speaks {request.language}")
    elif not serves:
        parts.append(f"overflow: {person.team} does not serve {request.language}")
    if request.skill is not None and request.skill in person.skills:
        parts.append(f"skill {request.skill}")
    if request.strategy == "longest_idle":
        idle = person.idle_since
        parts.append(f"idle since {idle:%H:%M:%S} UTC" if idle else "no call yet")
    return ", ".join(parts)
