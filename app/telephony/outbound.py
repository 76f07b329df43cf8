"""Outbound callbacks: ring the specialist with a whisper, then the customer.

`POST /v1/callbacks/{id}/dial` records the dial (the item's dial state and an outbound call
on the call log, under a provisional SID) and commits; then it asks Twilio's REST API to
call the specialist. Twilio fetches `/twilio/outbound/whisper` when they pick up (whom they
are calling and why; 1 calls the customer), `/twilio/outbound/connect` on their key (a
<Dial> to the customer from the company's caller ID) and `/twilio/outbound/dialed` when
that ends (answered, no answer, busy, failed: recorded on the item, which stays claimed so
the specialist can retry or complete it). `/twilio/outbound/status` is the status callback
of the specialist's leg. Every URL carries `ref`, the call's id in the call log.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twilio.twiml.voice_response import VoiceResponse

from app.accounts import repository as accounts
from app.auth.service import Principal
from app.calls import service as calls
from app.config import Settings
from app.core.errors import AppError, Conflict
from app.models.call import TERMINAL_STATUSES, Call
from app.models.routing import WorkItem
from app.telephony.driver import Telephony, form_int
from app.telephony.rest import TwilioRest, TwilioRestError
from app.worklist import service as worklist

logger = logging.getLogger("switchboard.telephony")

PROVISIONAL_PREFIX = "pending-"
SPECIALIST_RING_SECONDS = 25
CUSTOMER_RING_SECONDS = 30
VOICE = {"voice": "Polly.Joanna", "language": "en-US"}
_KINDS = {"voicemail": "their voicemail", "callback": "their callback request"}
_CUSTOMER_MISSED = {
    "no-answer": ("no_answer", "the customer did not answer"),
    "busy": ("busy", "the customer's line was busy"),
    "failed": ("failed", "the call to the customer failed"),
    "canceled": ("no_answer", "the call to the customer was canceled"),
}


class TwilioUnavailable(AppError):
    """Twilio's REST API refused the request or did not answer (the attempt is recorded)."""

    status = 502
    slug = "twilio-error"
    title = "Twilio did not place the call"


class TwilioNotConfigured(AppError):
    """The REST credentials are missing: nothing was written."""

    status = 503
    slug = "twilio-not-configured"
    title = "Twilio's REST API is not configured"


@dataclass(frozen=True)
class Dial:
    """A committed callback, ready for Twilio: the call to place and whom to ring."""

    item_id: int
    call_id: int
    specialist_contact: str
    caller_id: str


def caller_id_for(settings: Settings, call: Call | None) -> str | None:
    """The number customers see: per flow, else per called number, else the default,
    else the company number the customer called."""
    if call is not None:
        for key in (call.flow, call.to_number):
            if key and key in settings.twilio_caller_ids:
                return settings.twilio_caller_ids[key]
    if settings.twilio_caller_id:
        return settings.twilio_caller_id
    if call is not None and call.to_number.startswith("+"):
        return call.to_number
    return None


async def start(
    session: AsyncSession,
    settings: Settings,
    item_id: int,
    principal: Principal,
    *,
    specialist_id: int | None,
    now: datetime,
) -> Dial:
    """Record the callback (item dial state, outbound call) in the request's transaction."""
    if not settings.twilio_rest_configured:
        raise TwilioNotConfigured(
            "set TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET to place calls"
        )
    item, specialist = await worklist.start_dial(
        session, item_id, principal, specialist_id=specialist_id, now=now
    )
    origin = await session.get(Call, item.call_id)
    caller_id = caller_id_for(settings, origin)
    if caller_id is None:
        raise Conflict(
            "no caller ID for this callback: set TWILIO_CALLER_ID (or TWILIO_CALLER_IDS)"
        )
    assert item.number is not None  # start_dial refuses an item without one
    call = Call(
        sid=PROVISIONAL_PREFIX + secrets.token_hex(16),
        direction="outbound",
        from_number=caller_id,
        to_number=item.number,
        account_id=item.account_id,
        work_item_id=item.id,
        team=item.team,
        language=item.language,
        flow=origin.flow if origin is not None else None,
        status="queued",
        answered_by_id=specialist.id,
        started_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(call)
    await session.flush()
    return Dial(item.id, call.id, specialist.contact, caller_id)


async def place(
    tel: Telephony, rest: TwilioRest, dial: Dial
) -> tuple[str | None, TwilioRestError | None]:
    """Ask Twilio to ring the specialist, then record what it said (after the commit)."""
    urls = tel.urls
    error: TwilioRestError | None = None
    sid: str | None = None
    try:
        placed = await rest.create_call(
            to=dial.specialist_contact,
            from_=dial.caller_id,
            url=urls.outbound("whisper", dial.call_id),
            status_callback=urls.outbound("status", dial.call_id),
            ring_seconds=SPECIALIST_RING_SECONDS,
        )
        sid = placed.sid
    except TwilioRestError as exc:
        error = exc
        logger.warning("placing callback call %s failed: %s", dial.call_id, exc)
    now = tel.clock.now()
    async with tel.db.transaction() as session:
        call = await session.get(Call, dial.call_id, with_for_update=True)
        if call is None:
            return sid, error
        if error is not None:
            call.status = "failed"
            call.error = str(error)
            call.ended_at = now
            calls.promote_outcome(call, "ended")
            await worklist.record_dial(session, dial.item_id, "failed", error=str(error), now=now)
        else:
            assert sid is not None
            if call.sid.startswith(PROVISIONAL_PREFIX):
                call.sid = sid
            if call.status == "queued":
                await worklist.record_dial(session, dial.item_id, "ringing_specialist", now=now)
        call.updated_at = now
    return sid, error


# --- Twilio's webhooks of the callback ------------------------------------------------------


async def _call(session: AsyncSession, call_id: int | None, form: Mapping[str, str]) -> Call:
    call = await session.get(Call, call_id, with_for_update=True) if call_id else None
    if call is None or call.direction != "outbound":
        raise LookupError(f"no outbound call {call_id}")
    sid = form.get("CallSid", "")
    if call.sid.startswith(PROVISIONAL_PREFIX) and sid:
        call.sid = sid[:64]  # the webhook overtook the answer of the REST request
    return call


def _goodbye(text: str) -> str:
    response = VoiceResponse()
    response.say(text, **VOICE)
    response.hangup()
    return str(response)


async def whisper_text(session: AsyncSession, call: Call) -> str:
    """Whom the specialist is calling and why."""
    account = await accounts.get(session, call.account_id) if call.account_id else None
    item = await session.get(WorkItem, call.work_item_id) if call.work_item_id else None
    who = (
        f"{account.name}, {account.tier} tier, account {account.number}"
        if account is not None
        else "an unidentified caller"
    )
    why = _KINDS.get(item.kind, "their request") if item is not None else "their request"
    return f"Callback to {who}, about {why}."


async def whisper(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> str:
    """The specialist picked up: whom they call and why; 1 calls the customer."""
    text = "Callback to a customer."
    call_id = form_int(query.get("ref"))
    try:
        async with tel.db.transaction() as session:
            call = await _call(session, call_id, form)
            text = await whisper_text(session, call)
            if call.work_item_id is not None:
                await worklist.record_dial(
                    session, call.work_item_id, "ringing_specialist", now=tel.clock.now()
                )
    except Exception:
        logger.exception("the callback whisper of call %s failed; a plain one is said", call_id)
    response = VoiceResponse()
    gather = response.gather(
        input="dtmf",
        num_digits=1,
        timeout=8,
        action=tel.urls.outbound("connect", call_id or 0),
        method="POST",
    )
    gather.say(f"{text} Press 1 to call them now.", **VOICE)
    response.say("No key pressed. The callback stays on your list. Goodbye.", **VOICE)
    response.hangup()
    return str(response)


SORRY = "Sorry, the callback cannot go on. It stays on your list. Goodbye."


async def connect(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> str:
    """The specialist's key: 1 dials the customer (never an error: a goodbye instead)."""
    try:
        return await _connect(tel, query, form)
    except Exception:
        logger.exception("connecting callback call %s failed", query.get("ref"))
        return _goodbye(SORRY)


async def dialed(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> str:
    """The <Dial> to the customer ended (never an error: a goodbye instead)."""
    try:
        return await _dialed(tel, query, form)
    except Exception:
        logger.exception("recording the end of callback call %s failed", query.get("ref"))
        return _goodbye(SORRY)


async def _connect(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> str:
    """1 dials the customer from the company's caller ID; anything else ends the call."""
    call_id = form_int(query.get("ref"))
    if form.get("Digits", "").strip() != "1":
        async with tel.db.transaction() as session:
            call = await _call(session, call_id, form)
            if call.work_item_id is not None:
                await worklist.record_dial(
                    session,
                    call.work_item_id,
                    "specialist_missed",
                    error="the specialist did not press 1",
                    now=tel.clock.now(),
                )
        return _goodbye("The callback stays on your list. Goodbye.")
    async with tel.db.transaction() as session:
        call = await _call(session, call_id, form)
        now = tel.clock.now()
        call.answered_at = call.answered_at or now
        call.updated_at = now
        if call.work_item_id is not None:
            await worklist.record_dial(session, call.work_item_id, "calling_customer", now=now)
        customer, caller_id = call.to_number, call.from_number
    response = VoiceResponse()
    response.say("Calling the customer.", **VOICE)
    dial = response.dial(
        caller_id=caller_id,
        timeout=CUSTOMER_RING_SECONDS,
        action=tel.urls.outbound("dialed", call_id or 0),
        method="POST",
    )
    dial.number(customer)
    return str(response)


async def _dialed(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> str:
    """Record how the <Dial> to the customer ended, on the call and the item."""
    call_id = form_int(query.get("ref"))
    status = form.get("DialCallStatus", "")
    async with tel.db.transaction() as session:
        call = await _call(session, call_id, form)
        now = tel.clock.now()
        if status in ("completed", "answered"):
            calls.promote_outcome(call, "answered")
            dial_status, error = "answered", None
        else:
            dial_status, error = _CUSTOMER_MISSED.get(
                status, ("failed", f"the call to the customer ended: {status or 'unknown'}")
            )
            calls.promote_outcome(call, "ended")
            call.error = error
        call.updated_at = now
        if call.work_item_id is not None:
            await worklist.record_dial(
                session, call.work_item_id, dial_status, error=error, now=now
            )
    if error is None:
        return _goodbye("The call has ended. Complete the callback on your work list.")
    return _goodbye(f"Sorry, {error}. The callback stays on your list to try again.")


async def leg_status(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> None:
    """Status callback of the specialist's leg; a leg that never answered is recorded."""
    call_id = form_int(query.get("ref"))
    now = tel.clock.now()
    async with tel.db.transaction() as session:
        try:
            call = await _call(session, call_id, form)
        except LookupError:
            logger.warning("status callback for an unknown outbound call %s", call_id)
            return
        status = form.get("CallStatus", "")
        if status in TERMINAL_STATUSES and call.outcome is None:
            calls.promote_outcome(call, "ended")
        update = calls.StatusUpdate(
            status=status,
            sequence=form_int(form.get("SequenceNumber")),
            at=calls.twilio_time(form.get("Timestamp"), now),
            duration=form_int(form.get("CallDuration")),
        )
        fresh = await calls.apply_status(session, call, update, now=now)
        if not fresh or call.work_item_id is None or call.answered_at is not None:
            return
        if status in TERMINAL_STATUSES:
            error = {
                "completed": "the specialist hung up before calling the customer",
                "failed": "the call to the specialist failed",
            }.get(status, "the specialist did not answer")
            await worklist.record_dial(
                session, call.work_item_id, "specialist_missed", error=error, now=now
            )


async def outbound_calls_of(session: AsyncSession, item_id: int) -> list[Call]:
    """The outbound calls placed for a work item, newest first."""
    found = await session.scalars(
        select(Call).where(Call.work_item_id == item_id).order_by(Call.id.desc())
    )
    return list(found)
