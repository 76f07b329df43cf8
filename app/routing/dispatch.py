"""Routing a live call: ring the first free candidates, or queue, or give up.

Runs inside the webhook's transaction: the reservation and the queue entry are written
together with the call's new state, so a webhook that fails leaves nothing reserved.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.driver_sql import is_sqlite
from app.events.publish import event_row, publish
from app.models.call import Call
from app.routing import presence
from app.routing import queue as queues
from app.routing.decide import Decision, RouteRequest, consider, past, shortlist
from app.routing.order import Person
from app.routing.roster import read_team

# How often a waiting caller hears their position.
ANNOUNCE_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Ring:
    """Ring these people now (already reserved for the call when live)."""

    people: tuple[Person, ...]
    reasons: tuple[str, ...]
    # The attempt ringing each, written with the reservation (PostgreSQL, `route_live` with
    # a batch): their ids in the order of `people`. Empty, or None for one: the caller
    # writes those attempts.
    attempts: tuple[int | None, ...] = ()


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


def _ring(decision: Decision, ids: list[int], ringing: presence.Ringing | None) -> Ring:
    """Ring these of the decision's candidates, in the given order, with their reasons."""
    found = {c.person.specialist_id: c for c in decision.considered}
    chosen = [found[sid] for sid in ids]
    written = ringing.attempts if ringing is not None else {}
    attempts = tuple(written.get(sid) for sid in ids) if written else ()
    return Ring(tuple(c.person for c in chosen), tuple(c.reason for c in chosen), attempts)


def _ringing(
    session: AsyncSession, batch: int | None, decision: Decision
) -> presence.Ringing | None:
    """What the reservation needs to write the attempts ringing the decision's candidates
    (PostgreSQL; SQLite's reservation writes none)."""
    if batch is None or is_sqlite(session):
        return None
    people = {
        c.person.specialist_id: (c.person.team, c.person.contact) for c in decision.considered
    }
    return presence.Ringing(batch, people)


async def _reserve(
    session: AsyncSession,
    request: RouteRequest,
    decision: Decision,
    *,
    call: Call,
    now: datetime,
    exclude: Collection[int],
    place: queues.Place,
    ring_timeout: int,
    ringing: presence.Ringing | None,
) -> tuple[Decision, list[int]]:
    """Reserve the decision's first free candidates; past a shortlist when it runs short.

    Returns the decision that holds everyone reserved, and them in ringing order.
    """
    want = request.batch_size
    tried = [p.specialist_id for p in decision.candidates]
    got = await presence.reserve(
        session,
        tried,
        want=want,
        call_id=call.id,
        now=now,
        ring_timeout=ring_timeout,
        rowless=decision.rowless,
        team=request.team,
        ringing=ringing,
    )
    if len(got) == want or decision.complete:
        return decision, got
    # Others took some of the shortlisted meanwhile: go on down the list past them.
    full = await past(
        session, request, now=now, call_id=call.id, exclude=exclude, tried=tried, place=place
    )
    more = [p.specialist_id for p in full.candidates if p.specialist_id not in set(tried)]
    if ringing is not None:
        ringing.people.update((p.specialist_id, (p.team, p.contact)) for p in full.candidates)
    got += await presence.reserve(
        session,
        more,
        want=want - len(got),
        call_id=call.id,
        now=now,
        ring_timeout=ring_timeout,
        rowless=full.rowless,
        team=request.team,
        ringing=ringing,
    )
    merged = {c.person.specialist_id: c for c in (*full.considered, *decision.considered)}
    return replace(full, considered=tuple(merged.values())), got


async def route_live(
    session: AsyncSession,
    request: RouteRequest,
    *,
    call: Call,
    now: datetime,
    exclude: Collection[int],
    ring_timeout: int,
    max_wait: int,
    batch: int | None = None,
) -> Choice:
    """Reserve and ring, or queue the call, or say there is nobody; writes in the session.

    `batch`: the call's ringing batch, for the reservation to write the attempts ringing
    those it reserves (PostgreSQL: `Ring.attempts`) in its own statement.
    """
    if call.id is None:
        await session.flush()
    short = await shortlist(session, request, now=now, call_id=call.id, exclude=exclude)
    if short is not None:
        decision, line = short
        stored = line.own
    else:  # nobody on shift, no such team, or no stored shifts: the whole decision
        team = await read_team(session, request.team, now=now, call_id=call.id)
        line = team.line if team is not None else queues.Line(None, (), frozenset())
        stored = team.line.own if team is not None else await queues.entry_of(session, call.id)
    entry = queues.active_entry(stored, request.team)
    since = entry.enqueued_at if entry is not None else now
    place = queues.Place(call.id, queues.priority_of(request.tier), since)
    if short is None:
        decision = (
            await consider(session, request, now=now, call_id=call.id, exclude=exclude, place=place)
            if team is not None
            else Decision(request, False, False, ())
        )
    candidates = decision.candidates
    if candidates:
        ringing = _ringing(session, batch, decision)
        decision, got = await _reserve(
            session,
            request,
            decision,
            call=call,
            now=now,
            exclude=exclude,
            place=place,
            ring_timeout=ring_timeout,
            ringing=ringing,
        )
        if got:
            if entry is not None:
                entry.state = "ringing"
                entry.updated_at = now
            return _ring(decision, got, ringing)  # `ring` events were written with them
    if (candidates or decision.could_wait) and max_wait > 0:
        if entry is None:
            joined = event_row(
                "queue", at=now, team=request.team, call_id=call.id, data={"change": "joined"}
            )
            await publish(session, [joined])
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
            await publish(session, [queues.left_event(entry)])
            return Nobody(True, f"waited {max_wait} s in the {request.team} queue")
        announce = entry.announced_at is None or now - entry.announced_at >= ANNOUNCE_EVERY
        if announce:
            entry.announced_at = now
        if line.whole:
            number = queues.position_in(line, entry)
        else:  # only the first in line were read (many wait): count those ahead
            number = await queues.position(session, entry)
        return Wait(number, now - entry.enqueued_at, announce)
    if entry is not None and entry.state != "left":
        queues.leave(entry, "moved_on", now=now)
        await publish(session, [queues.left_event(entry)])
    return Nobody(False, _nobody_reason(decision))


def _nobody_reason(decision: Decision) -> str:
    request = decision.request
    if not decision.team_exists:
        return f"there is no team {request.team}"
    if not decision.considered:
        return f"no one is on shift in {request.team}"
    rung = sum(1 for c in decision.considered if c.status == "already_rung")
    if rung and rung == len(decision.considered):
        return f"everyone on shift in {request.team} was already rung for this call ({rung})"
    if rung:
        others = len(decision.considered) - rung
        return (
            f"no one else on shift in {request.team} can take a {request.language} call now: "
            f"{rung} already rung, {others} cannot take it"
        )
    return f"no one on shift in {request.team} can take a {request.language} call now"


def preview(decision: Decision) -> Choice:
    """What routing would do with a decision, without reserving or queueing (simulate)."""
    people = decision.candidates[: decision.request.batch_size]
    if people:
        return _ring(decision, [p.specialist_id for p in people], None)
    if decision.could_wait:
        return Wait(1, timedelta(0), True)
    return Nobody(False, _nobody_reason(decision))
