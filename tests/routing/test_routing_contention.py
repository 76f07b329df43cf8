"""Live routing under the reservations of others, and people it must not ring.

`route_live` reserves the first free candidates of its decision: people another
transaction is reserving at that moment are passed over (not waited for), and people whose
contact cannot be dialled are never reserved or announced, though SQL cannot tell them
from the others. Whatever the path, the people rung, the presence rows and the `ring`
events agree.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.core.clock import FixedClock
from app.core.db import Database
from app.models.call import RingAttempt
from app.models.console import ConsoleEvent
from app.models.routing import SpecialistPresence
from app.routing import presence
from app.routing.decide import RouteRequest
from app.routing.dispatch import Ring
from tests.conftest import ON_POSTGRES
from tests.routing.calls import add_call
from tests.routing.shortlists import RING_TIMEOUT, desk_team, free_desk, route_call
from tests.telephony.rota_rows import Person, staff

REQUEST = RouteRequest("desk", "en", strategy="fixed_order", batch_size=2)


async def _call(db: Database, now: datetime) -> int:
    async with db.transaction() as session:
        return await add_call(session, now, status="in-progress", age=timedelta(seconds=5))


async def _held_for(db: Database, call_id: int) -> dict[int, str]:
    """Presence state of everyone held for the call."""
    async with db.transaction() as session:
        rows = await session.scalars(
            select(SpecialistPresence).where(SpecialistPresence.call_id == call_id)
        )
        return {r.specialist_id: r.state for r in rows}


async def _rung_events(db: Database, call_id: int) -> list[tuple[int | None, str | None]]:
    """The call's `ring` events (one statement writes a batch's in no set order)."""
    async with db.transaction() as session:
        rows = await session.execute(
            select(ConsoleEvent.specialist_id, ConsoleEvent.team).where(
                ConsoleEvent.call_id == call_id, ConsoleEvent.kind == "ring"
            )
        )
        return sorted((sid, team) for sid, team in rows)


@pytest.mark.postgres_only
async def test_people_another_transaction_is_reserving_are_passed_over(
    db: Database, clock: FixedClock, database_url: str
) -> None:
    now = clock.now()
    desk = await free_desk(db, now, 6)
    ours, other = await _call(db, now), await _call(db, now)
    elsewhere = Database.from_url(database_url)
    try:
        # Another instance is reserving the first two and has not committed: the reservation
        # skips their locked rows rather than wait, and the next two are rung.
        async with elsewhere.transaction() as theirs:
            got = await presence.reserve(
                theirs, desk[:2], want=2, call_id=other, now=now, ring_timeout=RING_TIMEOUT
            )
            assert got == desk[:2]
            # Waiting for their locks would never end: they commit after this returns.
            choice = await asyncio.wait_for(route_call(db, REQUEST, ours, now, batch=1), timeout=10)
    finally:
        await elsewhere.dispose()
    assert isinstance(choice, Ring)
    assert [p.specialist_id for p in choice.people] == desk[2:4]
    # The attempts ringing them went in with their reservation, held by them.
    written = await _attempts_of(db, ours)
    assert [written[a][0] for a in choice.attempts] == desk[2:4]
    assert all(written[a][-1] == a for a in choice.attempts)
    assert await _held_for(db, ours) == {desk[2]: "ringing", desk[3]: "ringing"}
    assert await _held_for(db, other) == {desk[0]: "ringing", desk[1]: "ringing"}
    assert await _rung_events(db, ours) == [(desk[2], "desk"), (desk[3], "desk")]


async def _attempts_of(db: Database, call_id: int) -> dict[int, tuple[Any, ...]]:
    """The call's ringing attempts by id: specialist, team, batch, contact, result, and the
    attempt their specialist's presence row is held by."""
    async with db.transaction() as session:
        rows = await session.execute(
            select(RingAttempt, SpecialistPresence.attempt_id)
            .outerjoin(
                SpecialistPresence,
                SpecialistPresence.specialist_id == RingAttempt.specialist_id,
            )
            .where(RingAttempt.call_id == call_id)
        )
        return {
            a.id: (a.specialist_id, a.team, a.batch, a.contact, a.result, held) for a, held in rows
        }


async def test_a_reservation_that_rings_writes_its_attempts(
    db: Database, clock: FixedClock
) -> None:
    """PostgreSQL: the reserving statement writes the attempts ringing those it reserved,
    rows made for the rowless included, each held by its own attempt; elsewhere the caller
    writes them (`Ring.attempts` empty)."""
    now = clock.now()
    ids = await staff(db, now, {"desk": desk_team(4)})
    desk = [ids[f"Desk{i:02d}"] for i in range(1, 5)]
    async with db.transaction() as session:
        for sid in desk[:2]:  # the other two have no presence row yet
            session.add(SpecialistPresence(specialist_id=sid, state="free", updated_at=now))
    ours = await _call(db, now)
    request = RouteRequest("desk", "en", strategy="fixed_order", batch_size=4)
    choice = await route_call(db, request, ours, now, batch=3)
    assert isinstance(choice, Ring)
    assert [p.specialist_id for p in choice.people] == desk
    assert await _held_for(db, ours) == dict.fromkeys(desk, "ringing")
    written = await _attempts_of(db, ours)
    if not ON_POSTGRES:
        assert choice.attempts == () and written == {}
        return
    assert sorted(written) == sorted(choice.attempts)
    contacts = {p.specialist_id: p.contact for p in choice.people}
    for attempt_id, sid in zip(choice.attempts, desk, strict=True):
        assert written[attempt_id] == (sid, "desk", 3, contacts[sid], "ringing", attempt_id)
    # Without a batch nothing is written: the caller's attempts attach themselves.
    other = await _call(db, now + timedelta(minutes=5))
    async with db.transaction() as session:
        await presence.release_call(session, ours, now=now + timedelta(minutes=5))
    choice = await route_call(db, REQUEST, other, now + timedelta(minutes=5))
    assert isinstance(choice, Ring) and choice.attempts == ()
    assert await _attempts_of(db, other) == {}


async def test_people_who_cannot_be_dialled_are_never_reserved(
    db: Database, clock: FixedClock
) -> None:
    """First in line but undialable: passed over, their presence rows left as they were."""
    now = clock.now()
    people = [*desk_team(3, contact="ext 12"), Person("Ann", "+14155550001", ["en"])]
    people += [Person("Bob", "sip:bob@example.com", ["en"]), Person("Cy", "client:cy", ["en"])]
    ids = await staff(db, now, {"desk": people})
    desk = [ids[f"Desk{i:02d}"] for i in range(1, 4)]
    async with db.transaction() as session:
        session.add(SpecialistPresence(specialist_id=desk[0], state="free", updated_at=now))
    ours = await _call(db, now)

    choice = await route_call(db, REQUEST, ours, now)
    assert isinstance(choice, Ring)
    assert [p.name for p in choice.people] == ["Ann", "Bob"]
    assert await _held_for(db, ours) == {ids["Ann"]: "ringing", ids["Bob"]: "ringing"}
    assert await _rung_events(db, ours) == [(ids["Ann"], "desk"), (ids["Bob"], "desk")]
    async with db.transaction() as session:
        rows = {
            r.specialist_id: (r.state, r.held_until)
            for r in await session.scalars(
                select(SpecialistPresence).where(SpecialistPresence.specialist_id.in_(desk))
            )
        }
    assert rows == {desk[0]: ("free", None)}
