"""A call that ends frees everyone on it and leaves its queue, with the console events.

On PostgreSQL `end_call` is one statement of its own; on SQLite it is `release_call` and
`leave_call`. Either way the rows and events written are the same, checked here on the
database the suite runs on.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.calls import records
from app.core.clock import FixedClock
from app.core.db import Database
from app.models.call import Call, RingAttempt
from app.models.console import ConsoleEvent
from app.models.routing import QueueEntry, SpecialistPresence
from app.routing.ending import end_call
from app.routing.presence import release_attempt
from app.telephony.legs import leg_status
from tests.routing.calls import add_call
from tests.routing.shortlists import desk_team
from tests.telephony.rota_rows import staff


def _ringing_entry(call_id: int, enqueued_at: datetime, now: datetime) -> QueueEntry:
    """The call's entry in the desk's queue, ringing someone (five minutes to its deadline)."""
    return QueueEntry(
        call_id=call_id,
        team="desk",
        language="en",
        priority=0,
        enqueued_at=enqueued_at,
        deadline=now + timedelta(minutes=5),
        state="ringing",
        updated_at=enqueued_at,
    )


async def test_an_ended_call_frees_its_people_and_leaves_its_queue_with_their_events(
    db: Database, clock: FixedClock
) -> None:
    now = clock.now()
    ids = await staff(db, now, {"desk": desk_team(4)})
    talking, ringing, other, idle = (ids[f"Desk{i:02d}"] for i in range(1, 5))
    earlier = now - timedelta(minutes=3)
    async with db.transaction() as session:
        call_id = await add_call(session, now, status="in-progress", age=timedelta(minutes=3))
        other_call = await add_call(session, now, status="in-progress", age=timedelta(minutes=1))
        held = now + timedelta(minutes=1)
        session.add_all(
            [
                SpecialistPresence(
                    specialist_id=talking, state="busy", call_id=call_id, attempt_id=7,
                    held_until=held, idle_since=earlier, updated_at=earlier,
                ),
                SpecialistPresence(
                    specialist_id=ringing, state="ringing", call_id=call_id, attempt_id=8,
                    held_until=held, idle_since=earlier, updated_at=earlier,
                ),
                SpecialistPresence(
                    specialist_id=other, state="ringing", call_id=other_call, attempt_id=9,
                    held_until=held, idle_since=earlier, updated_at=earlier,
                ),
                SpecialistPresence(specialist_id=idle, state="free", updated_at=earlier),
                _ringing_entry(call_id, earlier, now),
            ]
        )  # fmt: skip
    later = now + timedelta(seconds=30)
    async with db.transaction() as session:
        entry = await session.scalar(select(QueueEntry).where(QueueEntry.call_id == call_id))
        await end_call(session, call_id, "abandoned", now=later)
        assert entry is not None and entry.state == "left"  # the session's copy follows

    async with db.transaction() as session:
        rows = {p.specialist_id: p for p in await session.scalars(select(SpecialistPresence))}
        queued = (await session.scalars(select(QueueEntry))).one()
        events = (await session.scalars(select(ConsoleEvent).order_by(ConsoleEvent.id))).all()

    for freed in (talking, ringing):
        row = rows[freed]
        assert (row.state, row.call_id, row.attempt_id, row.held_until) == (
            "free",
            None,
            None,
            None,
        )
        assert row.updated_at == later
    assert rows[talking].idle_since == later  # a conversation just ended: idle from now
    assert rows[ringing].idle_since == earlier  # rung, never talked: idle as before
    assert (rows[other].state, rows[other].call_id) == ("ringing", other_call)
    assert rows[idle].updated_at == earlier
    assert (queued.state, queued.result, queued.left_at) == ("left", "abandoned", later)

    seen = [(e.kind, e.specialist_id, e.team, e.call_id, e.data, e.at) for e in events]
    assert seen == [
        ("ring_ended", talking, None, call_id, {"talked": True}, later),
        ("ring_ended", ringing, None, call_id, {"talked": False}, later),
        ("queue", None, "desk", call_id, {"change": "left", "result": "abandoned"}, later),
    ]


async def test_ending_a_call_nobody_was_on_writes_nothing(db: Database, clock: FixedClock) -> None:
    now = clock.now()
    async with db.transaction() as session:
        call_id = await add_call(session, now, status="in-progress", age=timedelta(minutes=1))
    async with db.transaction() as session:
        await end_call(session, call_id, "abandoned", now=now)
    async with db.transaction() as session:
        assert (await session.scalars(select(ConsoleEvent))).all() == []


async def test_a_leg_that_ends_frees_only_its_own_reservation_with_its_event(
    db: Database, clock: FixedClock
) -> None:
    """`release_attempt` (one statement on PostgreSQL, two on SQLite): the person held by
    that leg is freed with a `ring_ended` event; a leg that no longer holds anyone (its
    person was moved on to another attempt) writes nothing."""
    now = clock.now()
    ids = await staff(db, now, {"desk": desk_team(3)})
    talked, rung, moved_on = (ids[f"Desk{i:02d}"] for i in range(1, 4))
    earlier = now - timedelta(minutes=2)
    async with db.transaction() as session:
        call_id = await add_call(session, now, status="in-progress", age=timedelta(minutes=2))
        held = now + timedelta(minutes=1)
        session.add_all(
            [
                SpecialistPresence(
                    specialist_id=person, state=state, call_id=call_id, attempt_id=attempt,
                    held_until=held, idle_since=earlier, updated_at=earlier,
                )
                for person, state, attempt in (
                    (talked, "busy", 11), (rung, "ringing", 12), (moved_on, "ringing", 14)
                )
            ]
        )  # fmt: skip
    later = now + timedelta(seconds=40)
    async with db.transaction() as session:
        await release_attempt(session, talked, 11, now=later, talked=True)
        await release_attempt(session, rung, 12, now=later, talked=False)
        await release_attempt(session, moved_on, 13, now=later, talked=False)  # not its leg

    async with db.transaction() as session:
        rows = {p.specialist_id: p for p in await session.scalars(select(SpecialistPresence))}
        events = (await session.scalars(select(ConsoleEvent).order_by(ConsoleEvent.id))).all()
    for freed in (talked, rung):
        assert (rows[freed].state, rows[freed].call_id, rows[freed].attempt_id) == (
            "free",
            None,
            None,
        )
        assert rows[freed].updated_at == later
    assert rows[talked].idle_since == later
    assert rows[rung].idle_since == earlier
    assert (rows[moved_on].state, rows[moved_on].attempt_id) == ("ringing", 14)
    seen = [(e.kind, e.specialist_id, e.team, e.call_id, e.data, e.at) for e in events]
    assert seen == [
        ("ring_ended", talked, None, None, {"talked": True, "attempt_id": 11}, later),
        ("ring_ended", rung, None, None, {"talked": False, "attempt_id": 12}, later),
    ]


async def test_a_legs_last_callback_writes_its_attempt_and_frees_its_person(
    db: Database, clock: FixedClock
) -> None:
    """`leg_status` on a terminal status (on PostgreSQL one statement for the attempt, the
    person and the event): the attempt records how the leg ended; the person it held is
    free with a `ring_ended` event; a person another attempt holds by now stays held, while
    that leg's own attempt is still written."""
    now = clock.now()
    ids = await staff(db, now, {"desk": desk_team(2)})
    rung, moved_on = ids["Desk01"], ids["Desk02"]
    earlier = now - timedelta(minutes=1)
    async with db.transaction() as session:
        call_id = await add_call(session, now, status="in-progress", age=timedelta(minutes=1))
        sid = (await session.get_one(Call, call_id)).sid
        attempts = [
            RingAttempt(
                call_id=call_id, specialist_id=person, team="desk", batch=1,
                contact=f"+1415555{person:04d}", rung_at=earlier, result="ringing",
            )
            for person in (rung, moved_on)
        ]  # fmt: skip
        session.add_all(attempts)
        await session.flush()
        first, second = (a.id for a in attempts)
        session.add_all(
            [
                SpecialistPresence(
                    specialist_id=rung, state="ringing", call_id=call_id, attempt_id=first,
                    held_until=now + timedelta(minutes=1), idle_since=earlier, updated_at=earlier,
                ),
                SpecialistPresence(
                    specialist_id=moved_on, state="ringing", call_id=call_id,
                    attempt_id=second + 100, held_until=now + timedelta(minutes=1),
                    idle_since=earlier, updated_at=earlier,
                ),
            ]
        )  # fmt: skip
    later = now + timedelta(seconds=25)
    async with db.transaction() as session:
        for attempt_id, leg in ((first, "CA" + "1" * 32), (second, "CA" + "2" * 32)):
            form = {"CallSid": leg, "CallStatus": "no-answer", "ParentCallSid": sid}
            await leg_status(session, form, sid, attempt_id, now=later)

    async with db.transaction() as session:
        stored = {a.id: a for a in await session.scalars(select(RingAttempt))}
        rows = {p.specialist_id: p for p in await session.scalars(select(SpecialistPresence))}
        events = (await session.scalars(select(ConsoleEvent).order_by(ConsoleEvent.id))).all()
    for attempt_id, leg in ((first, "CA" + "1" * 32), (second, "CA" + "2" * 32)):
        attempt = stored[attempt_id]
        assert (attempt.result, attempt.ended_at, attempt.leg_sid) == ("no-answer", later, leg)
    assert (rows[rung].state, rows[rung].call_id, rows[rung].attempt_id) == ("free", None, None)
    assert (rows[rung].updated_at, rows[rung].idle_since) == (later, earlier)
    assert (rows[moved_on].state, rows[moved_on].attempt_id) == ("ringing", second + 100)
    seen = [(e.kind, e.specialist_id, e.data, e.at) for e in events]
    assert seen == [("ring_ended", rung, {"talked": False, "attempt_id": first}, later)]


@pytest.mark.parametrize("changes", [True, False], ids=["call-changed", "call-unchanged"])
async def test_a_final_status_writes_the_call_with_its_ending(
    db: Database, clock: FixedClock, changes: bool
) -> None:
    """`records.save_ended` (on PostgreSQL the call's UPDATE is one more CTE of `end_call`'s
    statement): the call's changed columns are written, and its people are freed and its
    queue left with their events, as `end_call` does."""
    now = clock.now()
    talking = (await staff(db, now, {"desk": desk_team(1)}))["Desk01"]
    earlier = now - timedelta(minutes=2)
    async with db.transaction() as session:
        call_id = await add_call(session, now, status="in-progress", age=timedelta(minutes=2))
        sid = (await session.get_one(Call, call_id)).sid
        session.add_all(
            [
                SpecialistPresence(
                    specialist_id=talking, state="busy", call_id=call_id, attempt_id=3,
                    held_until=now + timedelta(minutes=1), idle_since=earlier, updated_at=earlier,
                ),
                _ringing_entry(call_id, earlier, now),
            ]
        )  # fmt: skip
    later = now + timedelta(seconds=50)
    async with db.transaction() as session:
        record = await records.call_by_sid(session, sid)
        assert record is not None
        if changes:
            call = record.call
            call.status, call.status_seq, call.outcome = "completed", 4, "abandoned"
            call.ended_at, call.duration, call.updated_at = later, 110, later
        await records.save_ended(session, record, "abandoned", now=later)
        await records.save(session, record)  # nothing more to write

    async with db.transaction() as session:
        stored = await session.get_one(Call, call_id)
        person = await session.get_one(SpecialistPresence, talking)
        queued = (await session.scalars(select(QueueEntry))).one()
        events = (await session.scalars(select(ConsoleEvent).order_by(ConsoleEvent.id))).all()
    written = (stored.status, stored.status_seq, stored.outcome, stored.ended_at, stored.duration)
    if changes:
        assert written == ("completed", 4, "abandoned", later, 110)
        assert stored.updated_at == later
    else:
        assert written == ("in-progress", None, None, None, None)
    assert (person.state, person.call_id, person.idle_since) == ("free", None, later)
    assert (queued.state, queued.result, queued.left_at) == ("left", "abandoned", later)
    seen = [(e.kind, e.specialist_id, e.call_id, e.data) for e in events]
    assert seen == [
        ("ring_ended", talking, call_id, {"talked": True}),
        ("queue", None, call_id, {"change": "left", "result": "abandoned"}),
    ]
