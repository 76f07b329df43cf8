"""Shared by the shortlist tests: the whole decision as live routing asks it, a team, and
routing a stored call live in a transaction of its own."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.models.call import Call
from app.models.routing import SpecialistPresence
from app.routing.decide import Decision, RouteRequest, consider
from app.routing.dispatch import Choice, route_live
from app.routing.queue import IN_LINE, Line, Place, active_entry, priority_of
from app.routing.roster import read_team
from tests.telephony.rota_rows import Person, staff

RING_TIMEOUT = 20


async def route_call(
    db: Database, request: RouteRequest, call_id: int, now: datetime, *, batch: int | None = None
) -> Choice:
    """`route_live` for a stored call in a transaction of its own (as its webhook would)."""
    async with db.transaction() as session:
        return await route_stored(session, request, call_id, now, batch=batch)


async def route_stored(
    session: AsyncSession,
    request: RouteRequest,
    call_id: int,
    now: datetime,
    *,
    batch: int | None = None,
) -> Choice:
    """`route_live` for a stored call, in the session's transaction."""
    call = await session.get(Call, call_id)
    assert call is not None
    return await route_live(
        session,
        request,
        call=call,
        now=now,
        exclude=(),
        ring_timeout=RING_TIMEOUT,
        max_wait=120,
        batch=batch,
    )


async def whole(
    session: AsyncSession,
    request: RouteRequest,
    *,
    now: datetime,
    call_id: int | None,
    exclude: Sequence[int],
) -> tuple[Decision, Line]:
    """`consider` as `route_live` asks it (the call's place from its own queue entry)."""
    team = await read_team(session, request.team, now=now, call_id=call_id)
    line = team.line if team is not None else Line(None, (), frozenset())
    entry = active_entry(line.own, request.team)
    place = Place(call_id, priority_of(request.tier), entry.enqueued_at if entry else now)
    full = await consider(session, request, now=now, call_id=call_id, exclude=exclude, place=place)
    return full, line


async def free_desk(db: Database, now: datetime, n: int) -> list[int]:
    """`desk_team(n)` on shift, each with a presence row saying free: their ids in order."""
    ids = await staff(db, now, {"desk": desk_team(n)})
    desk = [ids[f"Desk{i:02d}"] for i in range(1, n + 1)]
    async with db.transaction() as session:
        for sid in desk:
            session.add(SpecialistPresence(specialist_id=sid, state="free", updated_at=now))
    return desk


def desk_team(n: int, **fields: str) -> list[Person]:
    """n people in team desk who speak English: Desk01, Desk02, ... (contact overridable)."""
    return [
        Person(f"Desk{i:02d}", fields.get("contact", f"+1415555{i:04d}"), ["en"])
        for i in range(1, n + 1)
    ]


def disagreements(
    request: RouteRequest,
    short: tuple[Decision, Line] | None,
    full: Decision,
    full_line: Line,
) -> list[str]:
    """How the shortlist differs from the whole decision (nothing: they agree)."""
    if short is None:
        return ["gave up though people are on shift"] if full.considered else []
    decision, line = short
    problems = []
    got = [p.specialist_id for p in decision.candidates]
    want = [p.specialist_id for p in full.candidates]
    if got != want[: len(got)]:
        problems.append(f"candidates {got}, consider's {want}")
    if not decision.complete and len(got) < request.batch_size:
        problems.append(
            f"incomplete with {len(got)} candidates for a batch of {request.batch_size}"
        )
    listed = [c.person.specialist_id for c in decision.considered]
    if len(set(listed)) != len(listed):
        problems.append(f"lists someone twice: {listed}")
    if decision.complete and sorted(listed) != sorted(
        c.person.specialist_id for c in full.considered
    ):
        problems.append(f"complete but lists {sorted(listed)}, consider {len(full.considered)}")
    whole = {c.person.specialist_id: c for c in full.considered}
    for c in decision.considered:
        other = whole.get(c.person.specialist_id)
        if other is None:
            problems.append(f"lists {c.person.specialist_id}, who is not on shift")
        elif (c.status, c.reason, c.person) != (other.status, other.reason, other.person):
            problems.append(f"{c} but consider: {other}")
    if decision.rowless != full.rowless & set(listed):
        problems.append(f"rowless {set(decision.rowless)}, consider {set(full.rowless)}")
    if (decision.team_exists, decision.serves_language) != (True, full.serves_language):
        problems.append(f"team exists/serves {decision.team_exists}/{decision.serves_language}")
    own = (line.own.id if line.own else None, full_line.own.id if full_line.own else None)
    in_line = [
        {e.id for e in ln.entries if e.team == request.team and e.state in IN_LINE}
        for ln in (line, full_line)
    ]
    if not line.whole:  # only the first in line were read: the first of the whole line
        ordered = sorted(
            (e for e in full_line.entries if e.id in in_line[1]),
            key=lambda e: (-e.priority, e.enqueued_at, e.id),
        )
        own_id = {own[1]} if own[1] is not None else set()
        read = in_line[0] - own_id
        # The call's own entry is read apart: it may or may not be among the first.
        firsts = [{e.id for e in ordered[: len(read) + j]} - own_id for j in (0, 1)]
        if read not in firsts or not line.rung <= full_line.rung:
            problems.append(f"first in line {sorted(read)}, the line's {sorted(firsts[0])}")
    elif in_line[0] != in_line[1] or line.rung != full_line.rung:
        problems.append(f"queue line differs: own {own}, entries {in_line}")
    if own[0] != own[1]:
        problems.append(f"own entry differs: {own}")
    return problems
