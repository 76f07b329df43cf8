"""A status callback on PostgreSQL: one statement that records the event and decides on the
call as it locks it (`records.save_status_postgresql`). SQLite decides in Python on the
call it read (`service.apply_status`): the two decide alike, for every status a call can be
in and every status Twilio sends, numbered before or after, earlier or later."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.calls import records
from app.calls import service as calls
from app.core.clock import FixedClock
from app.core.db import Database
from app.models.call import CALL_STATUSES, Call

pytestmark = pytest.mark.postgres_only

_FIELDS = ("status", "status_seq", "started_at", "ended_at", "duration", "outcome", "updated_at")


async def test_the_statement_decides_as_the_python_does(db: Database, clock: FixedClock) -> None:
    now = clock.now()
    started = now - timedelta(minutes=2)
    states = list(
        itertools.product(
            CALL_STATUSES,
            (None, 3),  # status_seq
            ((None, None), (now - timedelta(seconds=30), 20)),  # ended_at, duration
            (None, "answered"),  # outcome
        )
    )
    updates = list(itertools.product((*CALL_STATUSES, "answered"), (1, 3, 7)))
    cases = list(itertools.product(states, updates))
    async with db.transaction() as session:
        rows = [
            Call(
                sid=f"CA{n:032d}", from_number="+14155550142", to_number="+18005550100",
                status=status, status_seq=seq, started_at=started, ended_at=ended,
                duration=duration, outcome=outcome, created_at=started, updated_at=started,
            )
            for n, ((status, seq, (ended, duration), outcome), _) in enumerate(cases)
        ]  # fmt: skip
        session.add_all(rows)
    expected = []
    applied = []
    for n, ((status, seq, (ended, duration), outcome), (sent, sequence)) in enumerate(cases):
        # Numbered events alternately before the call's start and during it.
        at = started + timedelta(seconds=-10 if n % 2 else 45)
        update = calls.StatusUpdate(sent, sequence, at, duration=61)
        call = Call(
            status=status, status_seq=seq, started_at=started, ended_at=ended,
            duration=duration, outcome=outcome, updated_at=started,
        )  # fmt: skip
        assert await calls.apply_status(None, call, update, now=now, recorded=True)  # type: ignore[arg-type]
        expected.append(tuple(getattr(call, name) for name in _FIELDS))
        known = calls.event_status(sent)
        assert known is not None
        applied.append((f"CA{n:032d}", records.StatusEvent(known, sequence, at, now)))
    async with db.transaction() as session:
        for sid, event in applied:
            assert await records.save_status_postgresql(
                session, sid, event, duration=61, from_number="", to_number=""
            )
        # The same event again: a repeat, nothing changed; a CallSid with no call: None.
        sid, event = applied[0]
        assert not await records.save_status_postgresql(
            session, sid, event, duration=61, from_number="", to_number=""
        )
        assert (
            await records.save_status_postgresql(
                session, "CA" + "x" * 32, event, duration=61, from_number="", to_number=""
            )
            is None
        )
    async with db.transaction() as session:
        stored = {c.sid: c for c in await session.scalars(select(Call))}
    assert len(cases) == 2160
    found = [tuple(getattr(stored[sid], name) for name in _FIELDS) for sid, _ in applied]
    assert found == expected


async def test_a_call_opened_without_its_numbers_takes_them(
    db: Database, clock: FixedClock
) -> None:
    """A call first heard of by a callback without its numbers (the fallback voicemail's
    recording) takes them from the first status callback that has them, and keeps them."""
    now = clock.now()
    async with db.transaction() as session:
        session.add_all(
            [
                Call(sid=sid, from_number=number, to_number="", status="queued",
                     started_at=now, created_at=now, updated_at=now)
                for sid, number in (("CA" + "1" * 32, ""), ("CA" + "2" * 32, "+14155550100"))
            ]
        )  # fmt: skip
    async with db.transaction() as session:
        for sid in ("CA" + "1" * 32, "CA" + "2" * 32):
            event = records.StatusEvent("ringing", 1, now, now)
            assert await records.save_status_postgresql(
                session, sid, event, duration=None, from_number="+15005550006",
                to_number="+18005550100",
            )  # fmt: skip
    async with db.transaction() as session:
        stored = {c.sid: (c.from_number, c.to_number) for c in await session.scalars(select(Call))}
    assert stored == {
        "CA" + "1" * 32: ("+15005550006", "+18005550100"),
        "CA" + "2" * 32: ("+14155550100", ""),
    }
