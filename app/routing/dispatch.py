"""Routing a live call: ring the first free candidates, or queue, or give up.

Runs inside the webhook's transaction: the reservation and the queue entry are written
together with the call's new state, so a webhook that fails leaves nothing reserved.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.call import Call
from app.models.routing import QueueEntry
from app.routing import presence
from app.routing import queue as queues
from app.routing.decide import Decision, RouteRequest, consider
from app.routing.order import Person

# How often a waiting caller hears their position.
ANNOUNCE_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Ring:
    """Ring these people now (already reserved for the call when live)."""

    people: tuple[Person, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Wait:
    """Everyone who could take the call is busy: hold in the queue."""

    position: int
    waited: timedelta
    announce: bool  # say the position now (on entry, then about once a minute)


@dataclass(frozen=True)
class Nobody:
    """No one to ring or wait for (or the wait ran out)."""

    timed_out: bool
    reason: str


Choice = Ring | Wait | Nobody


def _ring(decision: Decision, ids: list[int]) -> Ring:
    """Ring these of the decision's candidates, in the given order, with their reasons."""
    found = {c.person.specialist_id: c for c in decision.considered}
    chosen = [found[sid] for sid in ids]
    return Ring(tuple(c.person for c in chosen), tuple(c.reason for c in chosen))


def _active(entry: QueueEntry | None, team: str) -> QueueEntry | None:
    if entry is not None and entry.state != "left" and entry.team == team:
        return entry
    return None


async def route_live(
    session: AsyncSession,
    request: RouteRequest,
    *,
    call: Call,
    now: datetime,
    exclude: Collection[int],
    ring_timeout: int,
    max_wait: int,
) -> Choice:
    """Reserve and ring, or queue the call, or say there is nobody; writes in the session."""
    if call.id is None:
        await session.flush()
    stored = await queues.entry_of(session, call.id)
    entry = _active(stored, request.team)
    since = entry.enqueued_at if entry is not None else now
    place = queues.Place(call.id, queues.priority_of(request.tier), since)
    decision = await consider(
        session, request, now=now, call_id=call.id, exclude=exclude, place=place
    )
    candidates = decision.candidates
    if candidates:
        got = await presence.reserve(
            session,
            [p.specialist_id for p in candidates],
            want=request.batch_size,
            call_id=call.id,
            now=now,
            ring_timeout=ring_timeout,
        )
        if got:
            if entry is not None:
                entry.state = "ringing"
                entry.updated_at = now
            return _ring(decision, got)
    if (candidates or decision.could_wait) and max_wait > 0:
        if entry is None:
            if stored is not None:  # queued before for another team: reuse its row
                entry = stored
                entry.team, entry.language, entry.skill = (
                    request.team,
                    request.language,
                    request.skill,
                )
                entry.priority = queues.priority_of(request.tier)
                entry.enqueued_at, entry.deadline = now, now + timedelta(seconds=max_wait)
                entry.announced_at, entry.left_at, entry.result = None, None, None
            else:
                entry = queues.enqueue(
                    session,
                    call_id=call.id,
                    team=request.team,
                    language=request.language,
                    skill=request.skill,
                    tier=request.tier,
                    max_wait=max_wait,
                    now=now,
                )
        entry.state = "waiting"
        entry.updated_at = now
        if now >= entry.deadline:
            queues.leave(entry, "timeout", now=now)
            return Nobody(True, f"waited {max_wait} s in the {request.team} queue")
        announce = entry.announced_at is None or now - entry.announced_at >= ANNOUNCE_EVERY
        if announce:
            entry.announced_at = now
        await session.flush()
        position = await queues.position(session, entry)
        return Wait(position, now - entry.enqueued_at, announce)
    if entry is not None:
        queues.leave(entry, "moved_on", now=now)
    return Nobody(False, _nobody_reason(decision))


def _nobody_reason(decision: Decision) -> str:
    request = decision.request
    if not decision.team_exists:
        return f"there is no team {request.team}"
    if not decision.considered:
        return f"no one is on shift in {request.team}"
    return f"no one on shift in {request.team} can take a {request.language} call now"


def preview(decision: Decision) -> Choice:
    """What routing would do with a decision, without reserving or queueing (simulate)."""
    people = decision.candidates[: decision.request.batch_size]
    if people:
        return _ring(decision, [p.specialist_id for p in people])
    if decision.could_wait:
        return Wait(1, timedelta(0), True)
    return Nobody(False, _nobody_reason(decision))
