"""Transfers of a live call to a team (routed by the usual rules) or a named specialist.

Built on a Twilio conference named after the transfer (`transfer-<id>`):

- cold: the caller is moved into the conference (hold music until someone joins), which
  drops the first specialist; the target is called, hears a whisper, presses 1 and joins.
- warm: the first specialist's leg is moved into the conference; the caller's <Dial> ends
  and the caller holds (music, a loop) while the specialist talks with the target. `POST
  /v1/calls/{sid}/transfer/complete` then brings the caller in; the specialist leaves.

Every target rung is an attempt on the same call (`transfer_id` set) and a `ring` console
event (the target's screen pop). When no target takes
the call the caller is never dropped: a cold transfer rings the first specialist again
(then the fallback: voicemail or FALLBACK_NUMBER), a warm one puts the caller back with the
first specialist, who is still in the conference.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twilio.twiml.voice_response import VoiceResponse

from app.accounts import repository as accounts
from app.auth.service import Principal
from app.calls import repository as call_records
from app.calls import service as calls
from app.config import Settings
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.events.publish import event_row, publish
from app.ivr import flows_for_number
from app.models.call import Call, CallTransfer, RingAttempt
from app.models.rota import Specialist
from app.routing import presence
from app.routing.decide import RouteRequest
from app.routing.dispatch import Ring, route_live
from app.telephony import fallback
from app.telephony.driver import Telephony, form_int
from app.telephony.legs import whisper_text
from app.telephony.outbound import VOICE, TwilioNotConfigured, caller_id_for
from app.telephony.rest import TwilioRest, TwilioRestError
from app.telephony.whisper_words import words_for

logger = logging.getLogger("switchboard.telephony")

TARGET_RING_SECONDS = 20
MAX_TARGETS = 3  # team transfers: how many people are tried before giving up
ACTIVE = ("ringing", "talking")
HOLD_SECONDS = 10


def conference_name(transfer_id: int) -> str:
    """The Twilio conference of a transfer."""
    return f"transfer-{transfer_id}"


@dataclass(frozen=True)
class Move:
    """A committed transfer step for Twilio: whom to call, which legs to move."""

    transfer_id: int
    attempt_id: int | None
    target_contact: str | None
    caller_id: str
    caller_sid: str
    from_leg_sid: str | None
    mode: str


# --- Choosing and ringing a target ----------------------------------------------------------


async def _tier(session: AsyncSession, call: Call) -> str:
    account = await accounts.get(session, call.account_id) if call.account_id else None
    return account.tier if account is not None else "standard"


async def _tried(session: AsyncSession, transfer: CallTransfer) -> list[RingAttempt]:
    found = await session.scalars(
        select(RingAttempt).where(RingAttempt.transfer_id == transfer.id).order_by(RingAttempt.id)
    )
    return list(found)


async def _next_target(
    session: AsyncSession, call: Call, transfer: CallTransfer, now: datetime
) -> RingAttempt | None:
    """Reserve and record the next person to ring for a transfer (None: nobody left)."""
    tried = await _tried(session, transfer)
    if len(tried) >= MAX_TARGETS:
        return None
    person_id: int | None = None
    contact = ""
    team = transfer.target_team or call.team or "transfer"
    if transfer.target_specialist_id is not None:
        if tried:
            return None  # a named specialist is asked once
        target = await session.get(Specialist, transfer.target_specialist_id)
        got = await presence.reserve(
            session,
            [transfer.target_specialist_id],
            want=1,
            call_id=call.id,
            now=now,
            ring_timeout=TARGET_RING_SECONDS,
        )
        if target is None or not got:
            return None
        person_id, contact = target.id, target.contact
        # The screen pop of the target's console (a team target gets it from routing).
        ring = event_row("ring", at=now, specialist_id=person_id, team=team, call_id=call.id)
        await publish(session, [ring])
    else:
        assert transfer.target_team is not None
        exclude = {a.specialist_id for a in tried if a.specialist_id is not None}
        if transfer.from_specialist_id is not None:
            exclude.add(transfer.from_specialist_id)
        request = RouteRequest(
            team=transfer.target_team,
            language=call.language or "en",
            skill=call.topic,
            tier=await _tier(session, call),
            batch_size=1,
        )
        choice = await route_live(
            session,
            request,
            call=call,
            now=now,
            exclude=exclude,
            ring_timeout=TARGET_RING_SECONDS,
            max_wait=0,
        )
        if not isinstance(choice, Ring) or not choice.people:
            return None
        person_id, contact = choice.people[0].specialist_id, choice.people[0].contact
    attempt = calls.start_attempt(
        session,
        call,
        specialist_id=person_id,
        team=team,
        batch=len(tried) + 1,
        contact=contact,
        now=now,
    )
    attempt.transfer_id = transfer.id
    await session.flush()
    await presence.attach_attempt(session, person_id, call.id, attempt.id)
    return attempt


async def start(
    session: AsyncSession,
    settings: Settings,
    sid: str,
    principal: Principal,
    *,
    team: str | None,
    specialist_id: int | None,
    mode: str,
    now: datetime,
) -> Move:
    """Validate and record a transfer and its first target (in the request's transaction)."""
    if not settings.twilio_rest_configured:
        raise TwilioNotConfigured(
            "set TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET to transfer"
        )
    call = await call_records.by_sid(session, sid, lock=True)
    if call is None:
        raise NotFound(f"call {sid} does not exist")
    if principal.role == "specialist" and (
        principal.specialist_id is None or principal.specialist_id != call.answered_by_id
    ):
        raise Forbidden("only the specialist on the call (or a scheduler, an admin) transfers it")
    if call.direction != "inbound" or call.status != "in-progress" or call.answered_by_id is None:
        raise Conflict(f"call {sid} is not an answered call in progress", call_status=call.status)
    active = await session.scalar(
        select(CallTransfer).where(CallTransfer.call_id == call.id, CallTransfer.status.in_(ACTIVE))
    )
    if active is not None:
        raise Conflict(f"call {sid} is already being transferred", transfer_id=active.id)
    accepted = await session.scalar(
        select(RingAttempt)
        .where(RingAttempt.call_id == call.id, RingAttempt.result == "accepted")
        .order_by(RingAttempt.id.desc())
    )
    from_leg = accepted.leg_sid if accepted is not None else None
    if mode == "warm" and not from_leg:
        raise Conflict(
            f"call {sid}: the specialist's leg is unknown, so only a cold transfer works"
        )
    if specialist_id is not None:
        target = await session.get(Specialist, specialist_id)
        if target is None or not target.active or specialist_id == call.answered_by_id:
            message = (
                "no such specialist"
                if target is None
                else "the specialist is not active"
                if not target.active
                else "the specialist is already on the call"
            )
            raise ValidationFailed(
                f"cannot transfer to specialist {specialist_id}: {message}",
                errors=[{"field": "body.specialist_id", "message": message}],
            )
    caller_id = caller_id_for(settings, call)
    if caller_id is None:
        raise Conflict("no caller ID for the transfer: set TWILIO_CALLER_ID")
    transfer = CallTransfer(
        call_id=call.id,
        mode=mode,
        from_specialist_id=call.answered_by_id,
        from_leg_sid=from_leg,
        target_team=team,
        target_specialist_id=specialist_id,
        status="ringing",
        created_at=now,
        updated_at=now,
    )
    session.add(transfer)
    await session.flush()
    attempt = await _next_target(session, call, transfer, now)
    if attempt is None:
        who = f"team {team}" if team else f"specialist {specialist_id}"
        raise Conflict(f"nobody in {who} can take this call now; the caller stays with you")
    return Move(transfer.id, attempt.id, attempt.contact, caller_id, call.sid, from_leg, mode)


async def place(tel: Telephony, rest: TwilioRest, move: Move) -> TwilioRestError | None:
    """Ring the target and move the legs (after commit); a failure is recorded."""
    urls = tel.urls
    error: TwilioRestError | None = None
    placed = None
    try:
        if move.target_contact is not None and move.attempt_id is not None:
            placed = await rest.create_call(
                to=move.target_contact,
                from_=move.caller_id,
                url=urls.url("xfer/whisper", t=move.transfer_id, attempt=move.attempt_id),
                status_callback=urls.url("xfer/leg", t=move.transfer_id, attempt=move.attempt_id),
                ring_seconds=TARGET_RING_SECONDS,
            )
        if move.mode == "cold":
            await rest.redirect_call(move.caller_sid, urls.url("xfer/hold", t=move.transfer_id))
        elif move.from_leg_sid is not None:
            await rest.redirect_call(move.from_leg_sid, urls.url("xfer/origin", t=move.transfer_id))
    except TwilioRestError as exc:
        error = exc
    if error is not None and placed is not None:
        # The legs could not be moved: stop ringing the target for nothing.
        try:
            await rest.end_call(placed.sid)
        except TwilioRestError as exc:
            logger.warning("ending the target's call of transfer %s: %s", move.transfer_id, exc)
    if error is not None:
        logger.warning("transfer %s failed: %s", move.transfer_id, error)
        async with tel.db.transaction() as session:
            transfer = await session.get(CallTransfer, move.transfer_id, with_for_update=True)
            if transfer is not None:
                await _give_up(session, transfer, "failed", str(error), tel.clock.now())
    return error


async def _give_up(
    session: AsyncSession, transfer: CallTransfer, status: str, error: str | None, now: datetime
) -> None:
    transfer.status = status
    transfer.error = error
    transfer.updated_at = now
    for attempt in await _tried(session, transfer):
        if attempt.result in ("ringing", "whisper"):
            attempt.result = "failed" if status == "failed" else "canceled"
            attempt.ended_at = now
            if attempt.specialist_id is not None:
                await presence.release_attempt(
                    session, attempt.specialist_id, attempt.id, now=now, talked=False
                )


async def complete(session: AsyncSession, sid: str, principal: Principal, *, now: datetime) -> Move:
    """Warm transfer: the target accepted and talked with the specialist; bring the caller."""
    call = await call_records.by_sid(session, sid, lock=True)
    if call is None:
        raise NotFound(f"call {sid} does not exist")
    transfer = await session.scalar(
        select(CallTransfer)
        .where(CallTransfer.call_id == call.id)
        .order_by(CallTransfer.id.desc())
        .with_for_update()
    )
    if principal.role == "specialist" and (
        transfer is None or principal.specialist_id != transfer.from_specialist_id
    ):
        raise Forbidden("only the specialist who started the transfer completes it")
    if transfer is None or transfer.mode != "warm" or transfer.status != "talking":
        raise Conflict(
            f"call {sid} has no warm transfer whose target is on the line",
            transfer_status=transfer.status if transfer is not None else None,
        )
    transfer.status = "connected"
    transfer.updated_at = now
    return Move(transfer.id, None, None, "", call.sid, transfer.from_leg_sid, "join")


async def bring_caller(tel: Telephony, rest: TwilioRest, move: Move) -> TwilioRestError | None:
    """Redirect the holding caller into the conference now (else their hold loop does)."""
    try:
        await rest.redirect_call(move.caller_sid, tel.urls.url("xfer/hold", t=move.transfer_id))
    except TwilioRestError as exc:
        logger.warning("bringing the caller into transfer %s: %s", move.transfer_id, exc)
        return exc
    return None


# --- TwiML ----------------------------------------------------------------------------------


def _conference(
    tel: Telephony,
    transfer_id: int,
    *,
    say: str | None,
    start: bool,
    end: bool,
    action: str,
    music: bool,
) -> str:
    response = VoiceResponse()
    if say:
        response.say(say, **VOICE)
    dial = response.dial(action=tel.urls.url(action, t=transfer_id), method="POST")
    extra: dict[str, str] = {}
    if music and tel.settings.hold_music_url:
        extra["wait_url"] = tel.settings.hold_music_url
    dial.conference(
        conference_name(transfer_id),
        start_conference_on_enter=start,
        end_conference_on_exit=end,
        beep=False,
        **extra,
    )
    return str(response)


def _hold_loop(tel: Telephony, transfer_id: int) -> str:
    response = VoiceResponse()
    response.say("Please hold while we transfer your call.", **VOICE)
    if tel.settings.hold_music_url:
        response.play(tel.settings.hold_music_url)
    else:
        response.pause(length=HOLD_SECONDS)
    response.redirect(tel.urls.url("xfer/hold", t=transfer_id), method="POST")
    return str(response)


def _goodbye(text: str) -> str:
    response = VoiceResponse()
    response.say(text, **VOICE)
    response.hangup()
    return str(response)


async def _transfer(session: AsyncSession, query: Mapping[str, str]) -> tuple[CallTransfer, Call]:
    transfer_id = form_int(query.get("t"))
    transfer = (
        await session.get(CallTransfer, transfer_id, with_for_update=True) if transfer_id else None
    )
    call = await session.get(Call, transfer.call_id) if transfer is not None else None
    if transfer is None or call is None:
        raise LookupError(f"no transfer {transfer_id}")
    return transfer, call


async def _attempt(
    session: AsyncSession, transfer: CallTransfer, query: Mapping[str, str]
) -> RingAttempt:
    attempt_id = form_int(query.get("attempt"))
    attempt = await session.get(RingAttempt, attempt_id) if attempt_id else None
    if attempt is None or attempt.transfer_id != transfer.id:
        raise LookupError(f"no attempt {attempt_id} of transfer {transfer.id}")
    return attempt


def _back_to_origin(tel: Telephony, transfer: CallTransfer, contact: str | None) -> str:
    """Cold transfer nobody took: ring the first specialist again, then the fallback."""
    response = VoiceResponse()
    response.say("Sorry, nobody could take your call. Connecting you back.", **VOICE)
    if contact:
        dial = response.dial(
            action=tel.urls.url("xfer/back", t=transfer.id), method="POST", timeout=20
        )
        kind = contact.split(":", 1)[0]
        if kind == "client":
            dial.client(contact.removeprefix("client:"))
        elif kind == "sip":
            dial.sip(contact)
        else:
            dial.number(contact)
    else:
        response.redirect(tel.urls.url("xfer/back", t=transfer.id), method="POST")
    return str(response)


async def hold(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> str:
    """The caller's leg during a transfer: hold, join the conference, or go back."""
    try:
        async with tel.db.transaction() as session:
            transfer, _call = await _transfer(session, query)
            if transfer.status == "returned" and transfer.mode == "cold":
                origin = (
                    await session.get(Specialist, transfer.from_specialist_id)
                    if transfer.from_specialist_id
                    else None
                )
                return _back_to_origin(tel, transfer, origin.contact if origin else None)
            if transfer.mode == "cold" or transfer.status in ("connected", "returned"):
                # Cold: wait in the conference (music) until the target joins.
                return _conference(
                    tel,
                    transfer.id,
                    say="Please hold while we transfer your call."
                    if transfer.mode == "cold"
                    else None,
                    start=transfer.status in ("connected", "returned"),
                    end=True,
                    action="xfer/caller-done",
                    music=True,
                )
            return _hold_loop(tel, transfer.id)
    except Exception:
        logger.exception("the transfer hold of %s failed; the caller gets the fallback", query)
        return _fallback(tel, form)


def _fallback(tel: Telephony, form: Mapping[str, str]) -> str:
    flow = flows_for_number(tel.flows, form.get("To", ""))
    return fallback.apology(
        tel.urls, fallback_number=tel.settings.fallback_number, language=None, flow=flow
    )


async def origin(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> str:
    """Warm transfer: the first specialist waits in the conference for the target."""
    transfer_id = form_int(query.get("t")) or 0
    return _conference(
        tel,
        transfer_id,
        say="The caller is on hold. Calling the transfer target.",
        start=True,
        end=False,
        action="xfer/origin-done",
        music=False,
    )


async def origin_done(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> str:
    """The first specialist's conference ended (they left, or the target hung up on them)."""
    async with tel.db.transaction() as session:
        transfer, _call = await _transfer(session, query)
        if transfer.status == "talking":
            # The target left during the consultation: the caller comes back to us.
            await _give_up(session, transfer, "returned", "the target left", tel.clock.now())
            return _conference(
                tel,
                transfer.id,
                say="The transfer target left. The caller is coming back to you.",
                start=True,
                end=True,
                action="xfer/origin-done",
                music=False,
            )
    return _goodbye("Goodbye.")


async def caller_done(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> str:
    """The caller's conference ended: the conversation is over."""
    response = VoiceResponse()
    response.hangup()
    return str(response)


async def back(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> str:
    """The first specialist was rung again after a failed cold transfer."""
    if form.get("DialCallStatus") == "completed":
        response = VoiceResponse()
        response.hangup()
        return str(response)
    return _fallback(tel, form)


async def whisper(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> str:
    """The target picked up: who hands over (English), who is calling (in the call's
    language and voice, as for any routed call); 1 accepts."""
    handover = "Transferred call."
    about = ""
    voice = {"voice": VOICE["voice"], "language": VOICE["language"]}
    try:
        async with tel.db.transaction() as session:
            transfer, call = await _transfer(session, query)
            attempt = await _attempt(session, transfer, query)
            calls.whisper_reached(attempt, form.get("CallSid"))
            if transfer.from_specialist_id is not None:
                found = await session.get(Specialist, transfer.from_specialist_id)
                if found is not None:
                    handover = f"Transfer from {found.name}."
            about = await whisper_text(session, call)
            words = words_for(call.language)
            voice = {"voice": words.voice, "language": words.say_language}
            flow = tel.flows.get(call.flow or "")
            if flow is not None and call.language and call.language in flow.languages:
                heard = flow.languages[call.language]  # the voice the caller heard
                voice = {"voice": heard.voice, "language": heard.say_language}
    except Exception:
        logger.exception("the transfer whisper failed; the target hears a plain one")
    response = VoiceResponse()
    gather = response.gather(
        input="dtmf",
        num_digits=1,
        timeout=8,
        action=tel.urls.url("xfer/accept", t=query.get("t"), attempt=query.get("attempt")),
        method="POST",
    )
    gather.say(handover, **VOICE)
    if about:
        gather.say(about, **voice)
    gather.say("Press 1 to accept the call.", **VOICE)
    response.say("No key pressed. Goodbye.", **VOICE)
    response.hangup()
    return str(response)


async def accept(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> str:
    """The target's key: 1 joins the conference; anything else declines."""
    accepted = form.get("Digits", "").strip() == "1"
    now = tel.clock.now()
    try:
        async with tel.db.transaction() as session:
            transfer, call = await _transfer(session, query)
            attempt = await _attempt(session, transfer, query)
            if transfer.status != "ringing":
                return _goodbye("Sorry, this call is no longer waiting for you. Goodbye.")
            calls.whisper_reached(attempt, form.get("CallSid"))
            calls.whisper_answered(call, attempt, accepted=accepted, now=now)
            if attempt.result == "declined":
                return _goodbye("Declined. Goodbye.")
            if attempt.specialist_id is not None:
                await presence.connected(session, attempt.specialist_id, call.id, now=now)
            transfer.status = "connected" if transfer.mode == "cold" else "talking"
            transfer.updated_at = now
    except LookupError:
        logger.warning("a transfer key press for an unknown transfer: %s", query)
        return _goodbye("Sorry, this call is no longer waiting for you. Goodbye.")
    return _conference(
        tel,
        transfer.id,
        say=None,
        start=True,
        end=transfer.mode == "cold",
        action="xfer/target-done",
        music=False,
    )


async def target_done(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> str:
    """The target's conference ended."""
    response = VoiceResponse()
    response.hangup()
    return str(response)


async def leg_status(tel: Telephony, query: Mapping[str, str], form: Mapping[str, str]) -> None:
    """Status of a target's leg: one who never accepted means the next target, or back.

    Not a voice webhook (nobody waits on its answer), so it may ask Twilio to ring the next
    target or move the caller, with the REST client's timeout.
    """
    rest = TwilioRest(tel.settings)
    status = form.get("CallStatus", "")
    now = tel.clock.now()
    move: Move | None = None
    async with tel.db.transaction() as session:
        try:
            transfer, call = await _transfer(session, query)
            attempt = await _attempt(session, transfer, query)
        except LookupError:
            logger.warning("status callback for an unknown transfer leg: %s", query)
            return
        calls.leg_status(attempt, status, form.get("CallSid"), now=now)
        if status not in ("completed", "busy", "failed", "no-answer", "canceled"):
            return
        if attempt.specialist_id is not None:
            await presence.release_attempt(
                session,
                attempt.specialist_id,
                attempt.id,
                now=now,
                talked=attempt.result == "accepted",
            )
        if attempt.result == "accepted" or transfer.status != "ringing":
            return
        following = await _next_target(session, call, transfer, now)
        if following is not None:
            caller_id = caller_id_for(tel.settings, call) or ""
            move = Move(
                transfer.id, following.id, following.contact, caller_id, call.sid, None, "next"
            )
        else:
            await _give_up(session, transfer, "returned", "no target answered", now)
            move = Move(transfer.id, None, None, "", call.sid, None, "return")
    if move.mode == "next":
        await place(tel, rest, move)
    else:
        # The caller holds (warm loop or cold conference): move them on now.
        await bring_caller(tel, rest, move)


async def transfers_of(session: AsyncSession, call_id: int) -> list[CallTransfer]:
    """A call's transfers, oldest first."""
    found = await session.scalars(
        select(CallTransfer).where(CallTransfer.call_id == call_id).order_by(CallTransfer.id)
    )
    return list(found)


async def warm_hold_for(tel: Telephony, form: Mapping[str, str]) -> str | None:
    """The hold TwiML for a caller whose <Dial> ended because their specialist's leg moved
    into a warm transfer's conference; None when no warm transfer is under way."""
    if form.get("DialCallStatus") != "completed":
        return None
    sid = form.get("CallSid", "")
    async with tel.db.transaction() as session:
        transfer = await session.scalar(
            select(CallTransfer)
            .join(Call, Call.id == CallTransfer.call_id)
            .where(
                Call.sid == sid,
                CallTransfer.mode == "warm",
                CallTransfer.status.in_(("ringing", "talking", "returned")),
            )
            .order_by(CallTransfer.id.desc())
        )
        if transfer is None:
            return None
        transfer_id = transfer.id
    return await hold(tel, {"t": str(transfer_id)}, form)
