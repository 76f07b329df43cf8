"""Outbound calls left queued by a process that died before asking Twilio are failed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import select

from app.auth.service import Principal
from app.config import Settings
from app.core.clock import FixedClock
from app.core.db import Database
from app.models.call import Call
from app.telephony import outbound
from app.telephony.sweeper import QUEUED_TIMEOUT, REASON, sweep_stuck_callbacks
from tests.control.test_callback_dial import _claimed_item, _dial, _item
from tests.telephony.fake_twilio import FakeTwilio
from tests.worklist.conftest import Staff, ok


async def _died_before_twilio(
    db: Database, settings: Settings, clock: FixedClock, staff: Staff, item_id: int
) -> int:
    """What the dial endpoint commits before it asks Twilio; then the process 'dies'."""
    ann = Principal(key_id=0, name="ann", role="specialist", specialist_id=staff.ann)
    async with db.transaction() as session:
        dial = await outbound.start(
            session, settings, item_id, ann, specialist_id=None, now=clock.now()
        )
    return dial.call_id


async def _call(db: Database, call_id: int) -> Call:
    async with db.transaction() as session:
        found = await session.get(Call, call_id)
        assert found is not None
        return found


async def test_a_call_stuck_in_queued_is_failed_on_the_item_and_can_be_retried(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    clock: FixedClock,
    staff: Staff,
    fake_twilio: FakeTwilio,
) -> None:
    item_id = await _claimed_item(db, clock, staff)
    call_id = await _died_before_twilio(db, settings, clock, staff, item_id)
    stuck = await _item(client, item_id, staff)
    assert stuck["dial"]["status"] == "dialing"
    # Still within the timeout: it could be a request to Twilio under way.
    clock.advance(QUEUED_TIMEOUT - timedelta(seconds=1))
    assert await sweep_stuck_callbacks(db, clock.now()) == 0
    assert (await _call(db, call_id)).status == "queued"
    # While it is "dialing", a new dial is refused (a callback is under way).
    assert (await _dial(client, item_id, staff.as_ann)).status_code == 409

    clock.advance(timedelta(seconds=2))
    assert await sweep_stuck_callbacks(db, clock.now()) == 1
    call = await _call(db, call_id)
    assert (call.status, call.outcome, call.error) == ("failed", "ended", REASON)
    assert call.ended_at == clock.now()
    failed = await _item(client, item_id, staff)
    assert failed["dial"]["status"] == "failed"
    assert failed["dial"]["error"] == REASON
    assert failed["status"] == "claimed"  # still Ann's, to try again
    # A second sweep finds nothing more.
    assert await sweep_stuck_callbacks(db, clock.now()) == 0

    # The retry goes through to Twilio.
    retried = await _dial(client, item_id, staff.as_ann)
    body = ok(retried, 202)
    assert body["dial"]["status"] == "ringing_specialist" and body["dial"]["attempts"] == 2
    assert len(fake_twilio.placed()) == 1


async def test_calls_that_reached_twilio_are_left_alone(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    staff: Staff,
    fake_twilio: FakeTwilio,
) -> None:
    item_id = await _claimed_item(db, clock, staff)
    assert (await _dial(client, item_id, staff.as_ann)).status_code == 202
    clock.advance(QUEUED_TIMEOUT * 3)
    # Twilio gave it a SID, and no status callback came yet: it is still "queued".
    async with db.transaction() as session:
        [call] = await session.scalars(select(Call).where(Call.work_item_id == item_id))
    assert call.status == "queued" and not call.sid.startswith(outbound.PROVISIONAL_PREFIX)
    assert await sweep_stuck_callbacks(db, clock.now()) == 0
    item = await _item(client, item_id, staff)
    assert item["dial"]["status"] == "ringing_specialist"


async def test_a_newer_dial_of_the_item_is_not_failed_by_an_old_stuck_row(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    clock: FixedClock,
    staff: Staff,
    fake_twilio: FakeTwilio,
) -> None:
    item_id = await _claimed_item(db, clock, staff)
    await _died_before_twilio(db, settings, clock, staff, item_id)
    # Nobody swept for a long time: the stale dial no longer blocks a new one.
    clock.advance(timedelta(minutes=11))
    newer = ok(await _dial(client, item_id, staff.as_ann), 202)
    assert newer["dial"]["status"] == "ringing_specialist"
    assert await sweep_stuck_callbacks(db, clock.now()) == 1  # the old row is failed
    item = await _item(client, item_id, staff)
    assert item["dial"]["status"] == "ringing_specialist" and item["dial"]["error"] is None


async def test_several_instances_sweeping_at_once_fail_each_row_once(
    client: httpx.AsyncClient,
    db: Database,
    database_url: str,
    settings: Settings,
    clock: FixedClock,
    staff: Staff,
) -> None:
    items = [await _claimed_item(db, clock, staff) for _ in range(3)]
    for item_id in items:
        await _died_before_twilio(db, settings, clock, staff, item_id)
    clock.advance(QUEUED_TIMEOUT + timedelta(seconds=1))
    instances = [Database.from_url(database_url) for _ in range(3)]
    try:
        counts = await asyncio.gather(
            *(sweep_stuck_callbacks(each, clock.now()) for each in instances)
        )
    finally:
        for each in instances:
            await each.dispose()
    assert sum(counts) == 3
    for item_id in items:
        item = await _item(client, item_id, staff)
        assert (item["dial"]["status"], item["dial"]["error"]) == ("failed", REASON)
        assert item["dial"]["attempts"] == 1
