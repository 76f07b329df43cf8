"""The specialist's leg: the whisper, the key press that accepts, and the leg's status.

The whisper is heard by a specialist, not the caller, but it must not fail either: without
the database it says less, and a 1 still connects the call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts
from app.calls import records
from app.calls import repository as call_records
from app.calls import service as calls
from app.core.deadline import within
from app.core.driver_sql import final_statement, is_sqlite
from app.models.call import TERMINAL_STATUSES, Call, RingAttempt
from app.routing import presence
from app.routing import queue as queues
from app.telephony import twiml
from app.telephony.driver import VOICE_DEADLINE_SECONDS, Telephony
from app.telephony.whisper_words import whisper_sentence, words_for

logger = logging.getLogger("switchboard.telephony")


async def _leg(session: AsyncSession, call_sid: str, attempt_id: int | None) -> RingAttempt:
    """The attempt, its call loaded with it (`call_by_id` then reads no row again)."""
    found = (
        await call_records.attempt_of_call(session, attempt_id, call_sid) if attempt_id else None
    )
    if found is None:
        raise LookupError(f"no ringing attempt {attempt_id} for call {call_sid}")
    return found[0]


async def whisper(
    tel: Telephony, form: Mapping[str, str], call_sid: str, attempt_id: int | None
) -> str:
    """What the specialist hears on picking up, in the call's language; 1 accepts."""
    words = words_for(None)
    text = words.unknown + words.end
    try:
        async with asyncio.timeout(VOICE_DEADLINE_SECONDS), tel.db.webhook_transaction() as session:
            attempt = await _leg(session, call_sid, attempt_id)
            calls.whisper_reached(attempt, form.get("CallSid"))
            call = await call_records.call_by_id(session, attempt.call_id)
            if call is not None:
                words = words_for(call.language)
                flow = tel.flows.get(call.flow or "")
                if flow is not None and call.language and call.language in flow.languages:
                    voice = flow.languages[call.language]  # the voice the caller heard
                    words = replace(words, voice=voice.voice, say_language=voice.say_language)
                text = await whisper_text(session, call)
    except Exception:
        logger.exception(
            "whisper for call %s failed; the specialist hears a plain one",
            call_sid,
            extra={"call_sid": call_sid},
        )
    answer_url = tel.urls.whisper_answer(call_sid, attempt_id or 0)
    return str(
        twiml.whisper(
            f"{text} {words.press_one}",
            answer_url=answer_url,
            no_key_text=words.no_key,
            voice=words.voice,
            language=words.say_language,
        )
    )


async def whisper_text(session: AsyncSession, call: Call) -> str:
    """Who is calling, in the call's language: account, tier, language, topic, earlier
    calls and the last one's outcome."""
    account = await accounts.get(session, call.account_id) if call.account_id else None
    earlier = None
    last = None
    if account is not None:
        before = await call_records.earlier_calls(session, account.id, call.id)
        earlier = len(before)
        last = before[0].outcome if before else None
    return whisper_sentence(
        words_for(call.language),
        account_name=account.name if account else None,
        tier=account.tier if account else None,
        call_language=call.language,
        topic=call.topic,
        earlier=earlier,
        last_outcome=last,
    )


async def whisper_answer(
    tel: Telephony, form: Mapping[str, str], call_sid: str, attempt_id: int | None
) -> str:
    """1 connects the specialist to the caller; anything else hangs up their leg."""
    accepted = form.get("Digits", "").strip() == "1"

    async def record() -> None:
        async with tel.db.webhook_transaction() as session:
            attempt = await _leg(session, call_sid, attempt_id)
            call = await call_records.call_by_id(session, attempt.call_id)
            if call is not None:
                now = tel.clock.now()
                calls.whisper_reached(attempt, form.get("CallSid"))
                calls.whisper_answered(call, attempt, accepted=accepted, now=now)
                if attempt.specialist_id is not None:
                    if attempt.result == "accepted":
                        await presence.connected(session, attempt.specialist_id, call.id, now=now)
                        # The wait is over when someone accepts.
                        await queues.leave_call(session, call.id, "connected", now=now)
                    elif attempt.result == "declined":
                        await presence.release_attempt(
                            session, attempt.specialist_id, attempt.id, now=now, talked=False
                        )

    try:
        await within(VOICE_DEADLINE_SECONDS, record(), what="/twilio/whisper/answer")
    except Exception:
        # The caller is waiting: connect on a 1 even if the call log cannot record it.
        logger.exception(
            "recording the whisper answer for call %s failed",
            call_sid,
            extra={"call_sid": call_sid},
        )
    if accepted:
        return str(twiml.connect_leg())
    return str(twiml.hangup(()))


async def leg_status(
    session: AsyncSession,
    form: Mapping[str, str],
    call_sid: str,
    attempt_id: int | None,
    *,
    now: datetime,
) -> None:
    """A status callback of a specialist's leg (idempotent, order-safe).

    Every specialist rung sends several. On PostgreSQL each is one statement that decides
    on the attempt as it locks it (`records.leg_status_postgresql`), safe to run again;
    on SQLite the attempt is read and written on the driver (`records.attempt_of_call`,
    `records.save_attempt`), not through the ORM.
    """
    status = form.get("CallStatus", "")
    if attempt_id and not is_sqlite(session):
        final_statement(session, rerun_safe=True)  # one write: run alone, it commits by itself
        if await records.leg_status_postgresql(
            session, attempt_id, call_sid, status, form.get("CallSid"), now=now
        ):
            return
        attempt_id = None
    found = await records.attempt_of_call(session, attempt_id, call_sid) if attempt_id else None
    if found is None:
        logger.warning("status callback for an unknown leg", extra={"call_sid": call_sid})
        return
    attempt = found.attempt
    calls.leg_status(attempt, status, form.get("CallSid"), now=now)
    final_statement(session)  # one write: run alone, it commits by itself
    if status in TERMINAL_STATUSES and attempt.specialist_id is not None:
        # The leg is over (declined, unanswered, failed, or the conversation ended): its
        # specialist is free again, unless another attempt holds them by now.
        talked = attempt.result == "accepted"
        await records.save_ended_attempt(session, found, now=now, talked=talked)
    else:
        await records.save_attempt(session, found)
