"""Callbacks about a call that nobody hears: call status, recordings, transcriptions."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.calls import records
from app.calls import service as calls
from app.core.driver_sql import NeedsTransaction
from app.models.call import MAX_SID, TERMINAL_STATUSES
from app.telephony.driver import Telephony, form_int
from app.worklist import service as worklist

logger = logging.getLogger("switchboard.telephony")
RETRIES = 3
T = TypeVar("T")


async def call_status(tel: Telephony, form: Mapping[str, str]) -> bool:
    """Apply a status callback; False when it repeated one already recorded."""
    now = tel.clock.now()

    status = form.get("CallStatus", "")
    update = calls.StatusUpdate(
        status=status,
        sequence=form_int(form.get("SequenceNumber")),
        at=calls.twilio_time(form.get("Timestamp"), now),
        duration=form_int(form.get("CallDuration")),
    )
    known = calls.event_status(status)
    # On PostgreSQL the read of the call records the event too (one round trip fewer).
    event = (
        records.StatusEvent(known, update.sequence, update.at, now) if known is not None else None
    )

    async def apply(session: AsyncSession, record: records.CallRecord) -> bool:
        return await calls.apply_status(
            session, record.call, update, now=now, recorded=record.recorded
        )

    async def save(session: AsyncSession, record: records.CallRecord, fresh: bool) -> None:
        if fresh and status in TERMINAL_STATUSES:
            # The caller is gone: free anyone reserved for the call and leave the queue.
            await records.save_ended(session, record, "abandoned", now=now)
        else:
            await records.save(session, record)

    if event is not None and event.sequence is not None and not tel.db.is_sqlite:
        done = await _status_alone(tel, form, update, event)
        if done is not None:
            return done
    # Status callbacks can overtake the first voice webhook: open the record as "queued".
    return bool(
        await _on_call(tel, form, now, apply, opening_status="queued", save=save, event=event)
    )


async def _status_alone(
    tel: Telephony,
    form: Mapping[str, str],
    update: calls.StatusUpdate,
    event: records.StatusEvent,
) -> bool | None:
    """PostgreSQL: a status callback of a call on record in one statement without a
    transaction (`records.save_status_postgresql`), one round trip where a transaction
    takes four. None: nothing was written, and the callback is to be applied in a
    transaction: a call with no record (yet, or erased: it is opened there), or a CallSid
    no call could have."""
    sid = form.get("CallSid", "").strip()
    if not sid or len(sid) > MAX_SID:
        return None
    try:
        async with tel.db.webhook_transaction(alone=True) as session:
            return await records.save_status_postgresql(
                session,
                sid,
                event,
                duration=update.duration,
                from_number=form.get("From", ""),
                to_number=form.get("To", ""),
            )
    except NeedsTransaction:
        return None


async def recording(tel: Telephony, form: Mapping[str, str], *, now: datetime) -> None:
    """A voicemail recording is ready: attach it to the call."""
    status = form.get("RecordingStatus", "completed")
    url = form.get("RecordingUrl", "")
    if status != "completed" or not url:
        return
    duration = form_int(form.get("RecordingDuration"))

    async def attach(session: AsyncSession, record: records.CallRecord) -> None:
        call = record.call
        calls.record_voicemail(call, url, duration, now=now)
        await worklist.open_item(session, call, "voicemail", now=now)

    await _on_call(tel, form, now, attach)


async def transcription(tel: Telephony, form: Mapping[str, str], *, now: datetime) -> None:
    """A voicemail's transcription is ready: attach it to the call."""
    if form.get("TranscriptionStatus", "completed") != "completed":
        return

    async def attach(session: AsyncSession, record: records.CallRecord) -> None:
        call = record.call
        url = form.get("RecordingUrl", "")
        if url and not call.voicemail_url:
            calls.record_voicemail(call, url, None, now=now)
        calls.record_transcription(call, form.get("TranscriptionText", ""), now=now)
        if call.voicemail_url:
            await worklist.open_item(session, call, "voicemail", now=now)

    await _on_call(tel, form, now, attach)


async def _on_call(
    tel: Telephony,
    form: Mapping[str, str],
    now: datetime,
    change: Callable[[AsyncSession, records.CallRecord], Awaitable[T]],
    *,
    opening_status: str | None = None,
    save: Callable[[AsyncSession, records.CallRecord, Any], Awaitable[None]] | None = None,
    event: records.StatusEvent | None = None,
) -> T | None:
    """Apply a change to the callback's call, opening its record when there is none.

    A call whose webhooks failed (the database was down) had its caller put on the fallback
    voicemail, which answers without the database: its recording and transcription are the
    first the call log hears of it, and must not be dropped. Two callbacks opening the same
    record at once collide on the unique CallSid; the loser tries again.

    The call is written with `records.save` after the change, or by `save` (given the
    record and the change's result) when the change's writes belong with it. `event`: a
    status event the read of the call may record with it (`records.call_by_sid`).
    """
    sid = form.get("CallSid", "").strip()
    if not sid:
        return None
    if len(sid) > MAX_SID:
        # Twilio's sids are 34 characters: this one is no call of ours, and cannot be stored.
        logger.warning("ignored a callback whose CallSid is %d characters long", len(sid))
        return None
    for attempt in range(1, RETRIES + 1):
        try:
            async with tel.db.webhook_transaction() as session:
                record = await records.call_by_sid(session, sid, event=event)
                if record is None:
                    logger.info(
                        "callback for a call with no record %s; opening it",
                        sid,
                        extra={"call_sid": sid},
                    )
                    record = records.opened(
                        calls.new_call(
                            sid=sid,
                            from_number=form.get("From", ""),
                            to_number=form.get("To", ""),
                            status=opening_status or form.get("CallStatus") or "completed",
                            now=now,
                        )
                    )
                    await records.store(session, record)
                call = record.call
                if not call.from_number and form.get("From"):
                    call.from_number = form.get("From", "")[:64]
                    call.to_number = call.to_number or form.get("To", "")[:64]
                result = await change(session, record)
                if save is None:
                    await records.save(session, record)
                else:
                    await save(session, record, result)  # writes the call too
                return result
        except IntegrityError:
            if attempt == RETRIES:
                raise
    return None
