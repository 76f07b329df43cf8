"""`/twilio/*`: the webhooks Twilio calls. Every request is signature-checked first.

`/twilio/voice` (the number's Voice URL) and `/twilio/status` (its status callback) are set
by the operator; every other URL is one Switchboard put in its own TwiML.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from app.core.db import Database
from app.ivr import flows_for_number
from app.telephony import callbacks, fallback, legs
from app.telephony.driver import Hook, Telephony, VoiceWebhook, answer, form_int
from app.telephony.signature import TwilioForm
from app.telephony.twiml import xml_response

router = APIRouter(prefix="/twilio", tags=["twilio"])


def telephony(request: Request) -> Telephony:
    """The app's settings, database, clock and flows, for one webhook."""
    state = request.app.state
    db: Database = state.db
    return Telephony(state.settings, db, state.clock, state.flows)


TelephonyDep = Annotated[Telephony, Depends(telephony)]


def _int(request: Request, name: str) -> int | None:
    """A whole-number query parameter; None when absent, garbled or too large (never a 422)."""
    return form_int(request.query_params.get(name))


def _text(request: Request, name: str, limit: int = 64) -> str | None:
    raw = request.query_params.get(name)
    return raw[:limit] if raw else None


async def _voice(request: Request, tel: Telephony, form: dict[str, str], hook: Hook) -> Response:
    webhook = VoiceWebhook(hook, form, _int(request, "v"), _text(request, "lang", 16))
    return xml_response(await answer(tel, webhook))


@router.post("/voice")
async def voice(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """A new call: start its flow."""
    return await _voice(request, tel, form, "voice")


@router.post("/gather")
async def gather(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """What the caller pressed or said (no Digits/SpeechResult: no input)."""
    return await _voice(request, tel, form, "gather")


@router.post("/dial")
async def dial(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """A ringing batch ended (DialCallStatus says how)."""
    return await _voice(request, tel, form, "dial")


@router.post("/recorded")
async def recorded(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """The caller's voicemail ended."""
    return await _voice(request, tel, form, "recorded")


@router.post("/queue")
async def queue(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """A queued caller's hold loop came round (or they pressed the callback key)."""
    return await _voice(request, tel, form, "queue")


@router.post("/transfer")
async def transfer(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """A transfer to an external number ended."""
    return await _voice(request, tel, form, "transfer")


@router.post("/fallback/recorded")
async def fallback_recorded(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """The fallback voicemail ended: thank the caller (no database on this path)."""
    flow = flows_for_number(tel.flows, form.get("To", ""))
    return xml_response(fallback.goodbye(_text(request, "lang", 16), flow))


@router.post("/whisper")
async def whisper(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """A specialist picked up: say who is calling, gather 1 to accept."""
    call_sid = _text(request, "call") or ""
    return xml_response(await legs.whisper(tel, form, call_sid, _int(request, "attempt")))


@router.post("/whisper/answer")
async def whisper_answer(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """The specialist's key after the whisper: 1 connects, anything else hangs up."""
    call_sid = _text(request, "call") or ""
    return xml_response(await legs.whisper_answer(tel, form, call_sid, _int(request, "attempt")))


@router.post("/leg", status_code=status.HTTP_204_NO_CONTENT)
async def leg(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """Status of the leg ringing one specialist."""
    call_sid = _text(request, "call") or ""
    async with tel.db.transaction() as session:
        await legs.leg_status(
            session, form, call_sid, _int(request, "attempt"), now=tel.clock.now()
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/status", status_code=status.HTTP_204_NO_CONTENT)
async def call_status(form: TwilioForm, tel: TelephonyDep) -> Response:
    """The call's status callback: idempotent and order-safe."""
    await callbacks.call_status(tel, form)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/recording", status_code=status.HTTP_204_NO_CONTENT)
async def recording(form: TwilioForm, tel: TelephonyDep) -> Response:
    """A voicemail recording is available."""
    await callbacks.recording(tel, form, now=tel.clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/transcription", status_code=status.HTTP_204_NO_CONTENT)
async def transcription(form: TwilioForm, tel: TelephonyDep) -> Response:
    """A voicemail transcription is available."""
    await callbacks.transcription(tel, form, now=tel.clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
