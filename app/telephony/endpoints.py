"""`/twilio/*`: the webhooks Twilio calls. Every request is signature-checked first.

`/twilio/voice` (the number's Voice URL) and `/twilio/status` (its status callback) are set
by the operator; every other URL is one Switchboard put in its own TwiML.

Each webhook is a `Hook`: a coroutine from the app's telephony, the URL's query parameters
and the signed form to TwiML (200) or None (204). The routes below serve them through
FastAPI (and the OpenAPI document); `app.telephony.fastpath` serves the same hooks for
Twilio's url-encoded posts without the framework's routing and dependency machinery.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from app.core.db import Database
from app.core.deadline import within
from app.core.driver_sql import NeedsTransaction
from app.core.sqlite_driver import statements_on_loop
from app.ivr import flows_for_number
from app.telephony import callbacks, fallback, legs, outbound, spool, transfers
from app.telephony.driver import Hook as VoiceHook
from app.telephony.driver import Telephony, VoiceWebhook, answer, apology, form_int
from app.telephony.signature import TwilioForm, garbled_as_unreadable
from app.telephony.twiml import xml_response

router = APIRouter(prefix="/twilio", tags=["twilio"])
logger = logging.getLogger("switchboard.telephony")

Hook = Callable[[Telephony, Mapping[str, str], Mapping[str, str]], Awaitable[str | None]]
"""(telephony, query parameters, form) -> TwiML to answer, or None for 204 No Content."""


def telephony_of(state: Any) -> Telephony:
    """The app's settings, database, clock and flows (from `app.state`), for one webhook."""
    db: Database = state.db
    return Telephony(state.settings, db, state.clock, state.flows)


async def telephony(request: Request) -> Telephony:
    """The app's settings, database, clock and flows, for one webhook."""
    return telephony_of(request.app.state)


TelephonyDep = Annotated[Telephony, Depends(telephony)]


def _int(query: Mapping[str, str], name: str) -> int | None:
    """A whole-number query parameter; None when absent, garbled or too large (never a 422)."""
    return form_int(query.get(name))


def _text(query: Mapping[str, str], name: str, limit: int = 64) -> str | None:
    raw = query.get(name)
    return raw[:limit] if raw else None


def _caller_hook(hook: VoiceHook) -> Hook:
    async def handle(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> str:
        webhook = VoiceWebhook(
            hook, form, _int(query, "v"), _text(query, "lang", 16), _text(query, "step")
        )
        return await answer(tel, webhook)

    return handle


async def _dial(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> str:
    """A ringing batch ended; or the specialist's leg moved into a warm transfer (hold)."""
    try:
        held = await transfers.warm_hold_for(tel, form)
    except Exception:
        logger.exception("checking for a warm transfer failed; the flow goes on")
        held = None
    if held is not None:
        return held
    return await answer(tel, VoiceWebhook("dial", form, _int(query, "v"), _text(query, "lang", 16)))


async def _fallback_recorded(
    tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]
) -> str:
    flow = flows_for_number(tel.flows, form.get("To", ""))
    return str(fallback.goodbye(_text(query, "lang", 16), flow))


async def _whisper(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> str:
    call_sid = _text(query, "call") or ""
    return await legs.whisper(tel, form, call_sid, _int(query, "attempt"))


async def _whisper_answer(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> str:
    call_sid = _text(query, "call") or ""
    return await legs.whisper_answer(tel, form, call_sid, _int(query, "attempt"))


async def _leg(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> None:
    call_sid = _text(query, "call") or ""
    attempt, now = _int(query, "attempt"), tel.clock.now()
    try:
        # One read, then one write (the attempt, with its specialist freed when the leg
        # ended): on PostgreSQL no transaction is needed, two round trips fewer.
        async with tel.db.webhook_transaction(alone=True) as session:
            await legs.leg_status(session, form, call_sid, attempt, now=now)
        return
    except NeedsTransaction:
        pass  # nothing was written: again, in a transaction
    async with tel.db.webhook_transaction() as session:
        await legs.leg_status(session, form, call_sid, attempt, now=now)


async def _status(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> None:
    await callbacks.call_status(tel, form)


async def _recording(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> None:
    await callbacks.recording(tel, form, now=tel.clock.now())


async def _transcription(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> None:
    await callbacks.transcription(tel, form, now=tel.clock.now())


CALLER_HOOKS: dict[str, VoiceHook] = {
    "/twilio/voice": "voice",
    "/twilio/gather": "gather",
    "/twilio/dial": "dial",
    "/twilio/recorded": "recorded",
    "/twilio/queue": "queue",
    "/twilio/transfer": "transfer",
}
"""The caller's webhooks that run the flow, by path."""
HEARD_BY_CALLER = {*CALLER_HOOKS, "/twilio/fallback/recorded"}
"""Every webhook whose answer the caller hears: it must be TwiML, never an HTTP error."""


def apology_without_form(tel: Telephony, path: str, language: str | None) -> str:
    """What a caller's webhook answers when its form cannot be read: apology (or goodbye)."""
    if path not in CALLER_HOOKS:
        return str(fallback.goodbye(language, flows_for_number(tel.flows, "")))
    return apology(tel, VoiceWebhook(CALLER_HOOKS[path], {}, None, language))


CALLBACKS: dict[str, Hook] = {
    "/twilio/leg": _leg,
    "/twilio/status": _status,
    "/twilio/recording": _recording,
    "/twilio/transcription": _transcription,
}
"""The callbacks nobody hears, applied directly (as the spool's replay does)."""


def _durable(path: str, hook: Hook) -> Hook:
    """A callback with a deadline whose event is spooled, not lost, when it is missed."""

    async def handle(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> None:
        try:
            await within(spool.CALLBACK_DEADLINE_SECONDS, hook(tel, query, form), what=path)
        except spool.DATABASE_UNAVAILABLE:
            logger.warning("could not apply %s now", path, exc_info=True)
            await spool.spool_event(tel, path, query, form)  # if even this fails: a 500

    return handle


HOOKS: dict[str, Hook] = {
    "/twilio/voice": _caller_hook("voice"),
    "/twilio/gather": _caller_hook("gather"),
    "/twilio/dial": _dial,
    "/twilio/recorded": _caller_hook("recorded"),
    "/twilio/queue": _caller_hook("queue"),
    "/twilio/transfer": _caller_hook("transfer"),
    "/twilio/fallback/recorded": _fallback_recorded,
    "/twilio/whisper": _whisper,
    "/twilio/whisper/answer": _whisper_answer,
    "/twilio/outbound/whisper": outbound.whisper,
    "/twilio/outbound/connect": outbound.connect,
    "/twilio/outbound/dialed": outbound.dialed,
    "/twilio/outbound/status": outbound.leg_status,
    "/twilio/xfer/hold": transfers.hold,
    "/twilio/xfer/origin": transfers.origin,
    "/twilio/xfer/origin-done": transfers.origin_done,
    "/twilio/xfer/caller-done": transfers.caller_done,
    "/twilio/xfer/back": transfers.back,
    "/twilio/xfer/whisper": transfers.whisper,
    "/twilio/xfer/accept": transfers.accept,
    "/twilio/xfer/target-done": transfers.target_done,
    "/twilio/xfer/leg": transfers.leg_status,
    **{path: _durable(path, hook) for path, hook in CALLBACKS.items()},
}


async def _serve(path: str, request: Request, tel: Telephony, form: dict[str, str]) -> Response:
    query = garbled_as_unreadable(dict(request.query_params))
    with statements_on_loop():  # short statements: no trip to SQLite's thread
        xml = await HOOKS[path](tel, query, form)
    if xml is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return xml_response(xml)


@router.post("/voice")
async def voice(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """A new call: start its flow."""
    return await _serve("/twilio/voice", request, tel, form)


@router.post("/gather")
async def gather(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """What the caller pressed or said (no Digits/SpeechResult: no input)."""
    return await _serve("/twilio/gather", request, tel, form)


@router.post("/dial")
async def dial(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """A ringing batch ended (DialCallStatus says how)."""
    return await _serve("/twilio/dial", request, tel, form)


@router.post("/recorded")
async def recorded(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """The caller's voicemail ended."""
    return await _serve("/twilio/recorded", request, tel, form)


@router.post("/queue")
async def queue(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """A queued caller's hold loop came round (or they pressed the callback key)."""
    return await _serve("/twilio/queue", request, tel, form)


@router.post("/transfer")
async def transfer(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """A transfer to an external number ended."""
    return await _serve("/twilio/transfer", request, tel, form)


@router.post("/fallback/recorded")
async def fallback_recorded(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """The fallback voicemail ended: thank the caller (no database on this path)."""
    return await _serve("/twilio/fallback/recorded", request, tel, form)


@router.post("/whisper")
async def whisper(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """A specialist picked up: say who is calling, gather 1 to accept."""
    return await _serve("/twilio/whisper", request, tel, form)


@router.post("/whisper/answer")
async def whisper_answer(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """The specialist's key after the whisper: 1 connects, anything else hangs up."""
    return await _serve("/twilio/whisper/answer", request, tel, form)


@router.post("/leg", status_code=status.HTTP_204_NO_CONTENT)
async def leg(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """Status of the leg ringing one specialist."""
    return await _serve("/twilio/leg", request, tel, form)


@router.post("/status", status_code=status.HTTP_204_NO_CONTENT)
async def call_status(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """The call's status callback: idempotent and order-safe."""
    return await _serve("/twilio/status", request, tel, form)


@router.post("/recording", status_code=status.HTTP_204_NO_CONTENT)
async def recording(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """A voicemail recording is available."""
    return await _serve("/twilio/recording", request, tel, form)


@router.post("/transcription", status_code=status.HTTP_204_NO_CONTENT)
async def transcription(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """A voicemail transcription is available."""
    return await _serve("/twilio/transcription", request, tel, form)


@router.post("/outbound/whisper")
async def outbound_whisper(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """A specialist picked up a callback: whom they call and why; 1 calls the customer."""
    return await _serve("/twilio/outbound/whisper", request, tel, form)


@router.post("/outbound/connect")
async def outbound_connect(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """The specialist's key after the callback whisper: 1 dials the customer."""
    return await _serve("/twilio/outbound/connect", request, tel, form)


@router.post("/outbound/dialed")
async def outbound_dialed(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """The call to the customer ended (DialCallStatus says how)."""
    return await _serve("/twilio/outbound/dialed", request, tel, form)


@router.post("/outbound/status", status_code=status.HTTP_204_NO_CONTENT)
async def outbound_status(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
    """Status callback of the specialist's leg of a callback."""
    return await _serve("/twilio/outbound/status", request, tel, form)


def _xfer_route(path: str, doc: str, *, empty: bool = False) -> None:
    async def serve(request: Request, form: TwilioForm, tel: TelephonyDep) -> Response:
        return await _serve(f"/twilio/{path}", request, tel, form)

    serve.__doc__ = doc
    serve.__name__ = "twilio_" + path.replace("/", "_").replace("-", "_")
    code = status.HTTP_204_NO_CONTENT if empty else status.HTTP_200_OK
    router.post(f"/{path}", status_code=code, name=serve.__name__)(serve)


_xfer_route("xfer/hold", "The caller's leg during a transfer: hold, join, or go back.")
_xfer_route("xfer/origin", "Warm transfer: the first specialist waits in the conference.")
_xfer_route("xfer/origin-done", "The first specialist's transfer conference ended.")
_xfer_route("xfer/caller-done", "The caller's transfer conference ended.")
_xfer_route("xfer/back", "The first specialist was rung again after a failed transfer.")
_xfer_route("xfer/whisper", "The transfer target picked up: the whisper, 1 accepts.")
_xfer_route("xfer/accept", "The transfer target's key: 1 joins the conference.")
_xfer_route("xfer/target-done", "The transfer target's conference ended.")
_xfer_route("xfer/leg", "Status callback of a transfer target's leg.", empty=True)
