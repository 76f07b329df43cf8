"""Live events: a ring pops the specialist's screen with the caller's account and clears
when it ends; supervisors hear of every change; the hub catches events committed late."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.core.clock import FixedClock
from app.core.db import Database
from app.events.hub import EventHub
from app.events.publish import event_row, publish
from app.events.stream import listen, names_for
from app.models.console import ConsoleEvent
from tests.telephony.rota_rows import Person, staff
from tests.telephony.twilio import Caller

ANN = Person("Ann Example", "+14155550001", ["en"], ["payments"])
BOB = Person("Bob Example", "client:bob", ["en"], ["billing"])
# Only a guard against a hang: events arrive within a poll interval.
GUARD_SECONDS = 30


async def _next(stream: AsyncIterator[str]) -> tuple[str, dict[str, Any]]:
    """The next named event of a stream (comments and the retry line skipped)."""
    while True:
        chunk = await asyncio.wait_for(anext(stream), GUARD_SECONDS)
        lines = dict(line.split(": ", 1) for line in chunk.strip().splitlines() if ": " in line)
        if "event" in lines:
            return lines["event"], json.loads(lines["data"])


async def _ringing(client: httpx.AsyncClient, caller: Caller) -> None:
    await caller.dial_in()
    await caller.press("1")  # English; the caller ID finds the account
    await caller.press("1")  # payments: rings Ann and Bob


async def test_a_ring_pops_the_screen_and_clears_when_the_dial_ends(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    admin: dict[str, str],
    make_account: Any,
) -> None:
    account = await make_account("Acme Robotics", ["(415) 555-0100"])
    note = await client.post(
        f"/v1/accounts/{account['id']}/notes", json={"body": "Prefers email."}, headers=admin
    )
    assert note.status_code == 201, note.text
    ids = await staff(db, clock.now(), {"support-en": [ANN, BOB]})
    hub: EventHub = app.state.events
    ann = listen(
        hub, db, clock, role="specialist", specialist_id=ids["Ann Example"], last_event_id=None
    )
    boss = listen(hub, db, clock, role="scheduler", specialist_id=None, last_event_id=None)
    try:
        await _pop_and_clear(client, clock, ann, boss)
    finally:
        await ann.aclose()
        await boss.aclose()


async def _pop_and_clear(
    client: httpx.AsyncClient, clock: FixedClock, ann: AsyncIterator[str], boss: AsyncIterator[str]
) -> None:
    assert (await _next(ann))[0] == "ready"
    assert (await _next(boss))[0] == "ready"

    caller = Caller(client, from_number="+14155550100")
    await _ringing(client, caller)
    name, ring = await _next(ann)
    assert name == "ring"
    pop = ring["pop"]
    assert pop["account"]["name"] == "Acme Robotics"
    assert (pop["tier"], pop["language"], pop["topic"]) == ("standard", "en", "payments")
    assert pop["from"] == "+14155550100"
    assert [n["body"] for n in pop["notes"]] == ["Prefers email."]
    assert ("topic", "1") in [(p["step"], p["input"]) for p in pop["path"]]
    assert pop["waiting_seconds"] == 0
    assert (await _next(boss))[0] == "wallboard"

    clock.advance(timedelta(seconds=20))
    await caller.dial_ends("no-answer")
    name, ended = await _next(ann)
    assert (name, ended["call_id"], ended["talked"]) == ("ring_ended", ring["call_id"], False)


async def test_a_listener_sees_only_their_own_rings() -> None:
    from datetime import UTC, datetime

    from app.events.hub import Event

    at = datetime(2026, 11, 20, tzinfo=UTC)
    ring = Event(1, "ring", at, 7, "support-en", 3, {})
    queue = Event(2, "queue", at, None, "support-en", 3, {"change": "joined"})
    assert names_for("specialist", 7, ring) == ["ring"]
    assert names_for("specialist", 8, ring) == []
    assert names_for("specialist", 7, queue) == []
    assert names_for("scheduler", None, ring) == ["wallboard"]
    assert names_for("viewer", None, queue) == ["wallboard"]
    assert names_for("admin", 7, ring) == ["ring", "wallboard"]


async def test_the_hub_delivers_an_event_committed_after_a_later_one(
    db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On PostgreSQL a transaction can take id 5, another id 6 and commit first: a poll that
    # saw 6 must still deliver 5 when it commits.
    hub = EventHub(db, clock, poll_seconds=60)

    async def no_background_polls() -> None:
        # The hub's own task would poll once as it starts, at a moment the machine decides
        # (on a busy machine, after the commits below): only the test's polls here.
        await asyncio.sleep(3600)

    monkeypatch.setattr(hub, "_run", no_background_polls)
    now = clock.now()
    async with db.transaction() as session:
        await publish(session, [event_row("queue", at=now, team="a")])
    async with hub.subscribe() as subscription:
        assert await hub.poll_once() == []  # committed before listening: not news
        async with db.transaction() as session:
            await publish(session, [event_row("queue", at=now, team="b")])
            await publish(session, [event_row("queue", at=now, team="c")])
        async with db.transaction() as session:
            low = await session.scalar(select(func.max(ConsoleEvent.id)))
            assert low is not None
            row = await session.get(ConsoleEvent, low - 1)
            assert row is not None and row.team == "b"
            await session.delete(row)
        first = await hub.poll_once()
        assert [e.team for e in first] == ["c"]
        async with db.transaction() as session:
            session.add(ConsoleEvent(id=low - 1, kind="queue", at=now, team="late"))
        second = await hub.poll_once()
        assert [e.team for e in second] == ["late"]
        assert await hub.poll_once() == []
        got = [subscription.queue.get_nowait().team for _ in range(2)]
        assert got == ["c", "late"]
    await hub.close()


async def test_events_need_a_key(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v1/events")
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
