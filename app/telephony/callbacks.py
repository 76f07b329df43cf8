"""Callbacks about a call that nobody hears: call status, recordings, transcriptions."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from app.calls import repository as call_records
from app.calls import service as calls
from app.telephony.driver import Telephony

logger = logging.getLogger("switchboard.telephony")
RETRIES = 3


def _number(raw: str | None) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return None


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
                    sequence=_number(form.get("SequenceNumber")),
                    at=calls.twilio_time(form.get("Timestamp"), now),
                    duration=_number(form.get("CallDuration")),
                )
                return await calls.apply_status(session, call, update, now=now)
        except IntegrityError:
            # Another instance recorded the same call or event at the same moment.
            if attempt == RETRIES:
                raise
    return False


async def recording(tel: Telephony, form: Mapping[str, str], *, now: datetime) -> None:
    """A voicemail recording is ready: attach it to the call."""
    sid = form.get("CallSid", "")
    status = form.get("RecordingStatus", "completed")
    url = form.get("RecordingUrl", "")
    if status != "completed" or not url:
        return
    async with tel.db.transaction() as session:
        call = await call_records.by_sid(session, sid, lock=True)
        if call is None:
            logger.warning("recording for an unknown call %s", sid, extra={"call_sid": sid})
            return
        calls.record_voicemail(call, url, _number(form.get("RecordingDuration")), now=now)


async def transcription(tel: Telephony, form: Mapping[str, str], *, now: datetime) -> None:
    """A voicemail's transcription is ready: attach it to the call."""
    sid = form.get("CallSid", "")
    if form.get("TranscriptionStatus", "completed") != "completed":
        return
    async with tel.db.transaction() as session:
        call = await call_records.by_sid(session, sid, lock=True)
        if call is None:
            logger.warning("transcription for an unknown call %s", sid, extra={"call_sid": sid})
            return
        url = form.get("RecordingUrl", "")
        if url and not call.voicemail_url:
            calls.record_voicemail(call, url, None, now=now)
        calls.record_transcription(call, form.get("TranscriptionText", ""), now=now)
