"""Outbound callbacks whose Twilio request never happened: failed, with a reason, retryable.

`POST /v1/callbacks/{id}/dial` commits the outbound call (status `queued`, a provisional
SID) before it asks Twilio. A process that dies in between leaves that row queued forever
and the item "dialing". Every instance sweeps such rows every `SWEEP_SECONDS`: a row still
queued under its provisional SID after `QUEUED_TIMEOUT` is marked failed (the call and the
item, with the reason), so the specialist can try again.

A call Twilio did accept has left that state long before the timeout: its first status
callback or its whisper replaces the provisional SID (and the REST answer does too).
Several instances may sweep at once: each row is failed by one conditional UPDATE, so only
one of them wins it and writes the item.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update

from app.core.clock import Clock
from app.core.db import Database
from app.models.call import Call
from app.telephony.outbound import PROVISIONAL_PREFIX
from app.worklist import service as worklist

logger = logging.getLogger("switchboard.telephony")

# Well beyond TWILIO_REST_TIMEOUT_SECONDS plus a status callback's way back.
QUEUED_TIMEOUT = timedelta(minutes=2)
SWEEP_SECONDS = 30.0
BATCH = 100
REASON = (
    "Switchboard stopped before it asked Twilio to place the call, so nobody was rung; "
    "call back again"
)


def _stuck(cutoff: datetime) -> object:
    return (
        (Call.direction == "outbound")
        & (Call.status == "queued")
        & Call.sid.startswith(PROVISIONAL_PREFIX, autoescape=True)
        & (Call.created_at < cutoff)
    )


async def sweep_stuck_callbacks(db: Database, now: datetime) -> int:
    """Fail the outbound calls stuck in queued beyond the timeout; returns how many this
    instance failed."""
    cutoff = now - QUEUED_TIMEOUT
    async with db.transaction() as session:
        found = (
            await session.execute(
                select(Call.id, Call.work_item_id, Call.created_at)
                .where(_stuck(cutoff))  # type: ignore[arg-type]
                .order_by(Call.id)
                .limit(BATCH)
            )
        ).all()
    failed = 0
    for call_id, item_id, created_at in found:
        async with db.transaction() as session:
            won = await session.execute(
                update(Call)
                .where(Call.id == call_id, _stuck(cutoff))  # type: ignore[arg-type]
                .values(
                    status="failed", outcome="ended", error=REASON, ended_at=now, updated_at=now
                )
                .execution_options(synchronize_session=False)
            )
            if won.rowcount != 1:  # type: ignore[attr-defined]
                continue  # another instance (or Twilio's answer) got there first
            failed += 1
            if item_id is not None:
                await worklist.fail_stuck_dial(
                    session, item_id, dialled_at=created_at, error=REASON, now=now
                )
        logger.warning("outbound call %s never reached Twilio: marked failed", call_id)
    return failed


async def keep_sweeping(db: Database, clock: Clock, interval: float = SWEEP_SECONDS) -> None:
    """Sweep every `interval` seconds until cancelled."""
    while True:
        await asyncio.sleep(interval)
        try:
            await sweep_stuck_callbacks(db, clock.now())
        except Exception:  # a failed round must not stop the loop
            logger.exception("sweeping stuck outbound calls failed; trying again later")
