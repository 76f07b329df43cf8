"""Callbacks about a call that nobody hears: call status, recordings, transcriptions."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from app.calls import repository as call_records
from app.calls import service as calls
from app.models.call import Call
from app.telephony.driver import Telephony, form_int

logger = logging.getLogger("switchboard.telephony")
RETRIES = 3


async def call_status(tel: Telephony, form: Mapping[str, str]) -> bool:
    """Apply a status callback; False when it repeated one already recorded."""
    sid = form.get("CallSid", "").strip()
    if not sid:
        return False
    for attempt in range(1, RETRIES + 1):
        now = tel.clock.now()
        try:
            async with tel.db.transaction() as session:
                call = await call_records.by_sid(session, sid, lock=True)
                if call is None:
                    # Callbacks can overtake the first voice webhook: open the record here.
                    call = calls.open_call(
                        session,
                        sid=sid,
                        from_number=form.get("From", ""),
                        to_number=form.get("To", ""),
                        status="queued",
                        now=now,
                    )
                    await session.flush()
                update = calls.StatusUpdate(
                    status=form.get("CallStatus", ""),
                    sequence=form_int(form.get("SequenceNumber")),
                    at=calls.twilio_time(form.get("Timestamp"), now),
                    duration=form_int(form.get("CallDuration")),
                )
                return await calls.apply_status(session, call, update, now=now)
        except IntegrityError:
            # Another instance recorded the same call or event at the same moment.
            if attempt == RETRIES:
                raise
    return False


async def recording(tel: Telephony, form: Mapping[str, str], *, now: datetime) -> None:
    """A voicemail recording is ready: attach it to the call."""
    status = form.get("RecordingStatus", "completed")
    url = form.get("RecordingUrl", "")
    if status != "completed" or not url:
        return
    duration = form_int(form.get("RecordingDuration"))

    async def attach(call: Call) -> None:
        calls.record_voicemail(call, url, duration, now=now)

    await _on_call(tel, form, now, attach)


async def transcription(tel: Telephony, form: Mapping[str, str], *, now: datetime) -> None:
    """A voicemail's transcription is ready: attach it to the call."""
    if form.get("TranscriptionStatus", "completed") != "completed":
        return

    async def attach(call: Call) -> None:
        url = form.get("RecordingUrl", "")
        if url and not call.voicemail_url:
            calls.record_voicemail(call, url, None, now=now)
        calls.record_transcription(call, form.get("TranscriptionText", ""), now=now)

    await _on_call(tel, form, now, attach)


async def _on_call(
    tel: Telephony,
    form: Mapping[str, str],
    now: datetime,
    change: Callable[[Call], Awaitable[None]],
) -> None:
    """Apply a change to the callback's call, opening its record when there is none.

    A call whose webhooks failed (the database was down) had its caller put on the fallback
    voicemail, which answers without the database: its recording and transcription are the
    first the call log hears of it, and must not be dropped.
    """
    sid = form.get("CallSid", "").strip()
    if not sid:
        return
    for attempt in range(1, RETRIES + 1):
        try:
            async with tel.db.transaction() as session:
                call = await call_records.by_sid(session, sid, lock=True)
                if call is None:
                    logger.info(
                        "voicemail for a call with no record %s; opening it",
                        sid,
                        extra={"call_sid": sid},
                    )
                    status = form.get("CallStatus") or "completed"
                    call = calls.open_call(
                        session,
                        sid=sid,
                        from_number=form.get("From", ""),
                        to_number=form.get("To", ""),
                        status=status,
                        now=now,
                    )
                    await session.flush()
                if not call.from_number and form.get("From"):
                    call.from_number = form.get("From", "")[:64]
                    call.to_number = call.to_number or form.get("To", "")[:64]
                await change(call)
                return
        except IntegrityError:
            # The call's status callback opened the same record at the same moment.
            if attempt == RETRIES:
                raise
