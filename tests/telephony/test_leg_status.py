"""A leg's status callback on PostgreSQL: one statement that decides on the attempt as it
locks it (`records.leg_status_postgresql`). SQLite decides in Python on the attempt it read
(`service.leg_status`): the two decide alike, for every result an attempt can be in, every
status Twilio sends for a leg and every leg CallSid; callbacks of one leg at once cannot
undo each other; the final one frees the specialist the attempt still holds."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from app.calls import records, service
from app.core.clock import FixedClock
from app.core.db import Database
from app.models.call import ATTEMPT_RESULTS, Call, RingAttempt
from app.models.console import ConsoleEvent
from app.models.routing import SpecialistPresence
from tests.routing.calls import add_call
from tests.routing.shortlists import desk_team
from tests.telephony.rota_rows import staff

pytestmark = pytest.mark.postgres_only

# Every status a leg's callback can carry (statusCallbackEvent, and Twilio's final ones).
STATUSES = (
    "queued",
    "initiated",
    "ringing",
    "in-progress",
    "answered",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
)


def _attempt(call_id: int, rung_at: datetime, **fields: Any) -> RingAttempt:
    """A desk attempt of the call rung at `rung_at` (nobody's unless `specialist_id`)."""
    return RingAttempt(
        call_id=call_id, team="desk", batch=1, contact="+14155550100", rung_at=rung_at, **fields
    )


async def test_the_statement_decides_as_the_python_does(db: Database, clock: FixedClock) -> None:
    now = clock.now()
    earlier, later = now - timedelta(minutes=1), now + timedelta(seconds=25)
    cases = list(
        itertools.product(
            ATTEMPT_RESULTS,
            (None, earlier),  # ended_at
            (None, "", "CA" + "0" * 32),  # the leg's CallSid as stored
            STATUSES,
            (None, "", "CA" + "9" * 32),  # the leg's CallSid in the callback
        )
    )
    async with db.transaction() as session:
        call_id = await add_call(session, now, status="in-progress", age=timedelta(minutes=1))
        sid = (await session.get_one(Call, call_id)).sid
        attempts = [
            _attempt(call_id, earlier, result=result, ended_at=ended, leg_sid=leg)
            for result, ended, leg, _, _ in cases
        ]
        session.add_all(attempts)
        await session.flush()
        ids = [a.id for a in attempts]
    expected = []
    for result, ended, leg, status, leg_sid in cases:
        attempt = RingAttempt(result=result, ended_at=ended, leg_sid=leg)
        service.leg_status(attempt, status, leg_sid, now=later)
        expected.append((attempt.result, attempt.ended_at, attempt.leg_sid))
    async with db.transaction() as session:
        for attempt_id, (*_, status, leg_sid) in zip(ids, cases, strict=True):
            assert await records.leg_status_postgresql(
                session, attempt_id, sid, status, leg_sid, now=later
            )
        # Another call's CallSid: no such attempt of that call, nothing written.
        other = "CA" + "7" * 32
        assert not await records.leg_status_postgresql(
            session, ids[0], other, "completed", None, now=later
        )
    async with db.transaction() as session:
        rows = await session.scalars(select(RingAttempt).where(RingAttempt.call_id == call_id))
        stored = {a.id: (a.result, a.ended_at, a.leg_sid) for a in rows}
    assert len(cases) == 1440
    assert [stored[i] for i in ids] == expected


async def test_a_final_status_frees_whom_the_attempt_still_holds(
    db: Database, clock: FixedClock
) -> None:
    """For each result the attempt can be in: a non-final status frees nobody; the final
    one frees its specialist with a `ring_ended` event (talked: the leg was accepted, and
    idle from then); a repeat of it frees nobody twice."""
    now = clock.now()
    earlier, later = now - timedelta(minutes=1), now + timedelta(seconds=25)
    people = list((await staff(db, now, {"desk": desk_team(len(ATTEMPT_RESULTS))})).values())
    async with db.transaction() as session:
        call_id = await add_call(session, now, status="in-progress", age=timedelta(minutes=1))
        sid = (await session.get_one(Call, call_id)).sid
        attempts = [
            _attempt(call_id, earlier, result=result, specialist_id=person)
            for person, result in zip(people, ATTEMPT_RESULTS, strict=True)
        ]
        session.add_all(attempts)
        await session.flush()
        session.add_all(
            [
                SpecialistPresence(
                    specialist_id=a.specialist_id, state="ringing", call_id=call_id,
                    attempt_id=a.id, held_until=now + timedelta(minutes=1), idle_since=earlier,
                    updated_at=earlier,
                )
                for a in attempts
            ]
        )  # fmt: skip
        ids = {a.id: a.result for a in attempts}
    async with db.transaction() as session:
        for attempt_id in ids:
            await records.leg_status_postgresql(session, attempt_id, sid, "ringing", None, now=now)
    async with db.transaction() as session:
        states = await session.scalars(select(SpecialistPresence.state))
        assert set(states) == {"ringing"}
    for _ in range(2):  # the final status, then Twilio's repeat of it
        async with db.transaction() as session:
            for attempt_id in ids:
                await records.leg_status_postgresql(
                    session, attempt_id, sid, "completed", None, now=later
                )
    async with db.transaction() as session:
        rows = {p.attempt_id: p for p in await session.scalars(select(SpecialistPresence))}
        events = (await session.scalars(select(ConsoleEvent).order_by(ConsoleEvent.id))).all()
        presence = {p.specialist_id: p for p in await session.scalars(select(SpecialistPresence))}
    assert rows.keys() == {None}  # everyone freed
    talked = {a: result == "accepted" for a, result in ids.items()}
    assert [(e.kind, e.data) for e in events] == [
        ("ring_ended", {"talked": talked[a], "attempt_id": a}) for a in ids
    ]
    for attempt in attempts:
        assert attempt.specialist_id is not None
        seen = presence[attempt.specialist_id]
        assert (seen.state, seen.updated_at) == ("free", later)
        assert seen.idle_since == (later if attempt.result == "accepted" else earlier)


async def test_a_callback_waiting_for_the_attempt_decides_on_what_it_finds(
    db: Database, clock: FixedClock
) -> None:
    """The specialist's key press accepted the call while a late `answered` of their leg
    waited for the attempt's row: it decides on the accepted attempt, and leaves it so (a
    decision made on the row read before would have put it back to `whisper`)."""
    now = clock.now()
    async with db.transaction() as session:
        call_id = await add_call(session, now, status="in-progress", age=timedelta(minutes=1))
        sid = (await session.get_one(Call, call_id)).sid
        attempt = _attempt(call_id, now, result="ringing")
        session.add(attempt)
        await session.flush()
        attempt_id = attempt.id

    async def answered() -> bool:
        async with db.transaction() as session:
            return await records.leg_status_postgresql(
                session, attempt_id, sid, "answered", "CA" + "3" * 32, now=now
            )

    async with db.transaction() as session:
        await session.execute(
            text("UPDATE call_attempts SET result = 'accepted' WHERE id = :id"), {"id": attempt_id}
        )
        waiting = asyncio.create_task(answered())
        await asyncio.sleep(0.3)
        assert not waiting.done()  # it waits for the row the accepting transaction holds
    assert await waiting
    async with db.transaction() as session:
        stored = await session.get_one(RingAttempt, attempt_id)
        assert (stored.result, stored.leg_sid) == ("accepted", "CA" + "3" * 32)
