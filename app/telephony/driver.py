"""Answering the caller's webhooks: load the call's state, feed the engine, save, render TwiML.

One transaction per webhook writes the call record, its IVR path, ringing attempts and the
new state together. The state row is versioned: callback URLs carry the version they were
issued for, so a webhook Twilio repeats gets the TwiML it was answered with before, and two
webhooks of one call handled at once cannot both advance it. Whatever fails, the caller
hears an apology and the fallback (see fallback.py), never an application error.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.calls import records
from app.calls import repository as call_records
from app.calls import service as calls
from app.closures.hours import LOOK_AHEAD
from app.closures.repository import HoursAhead
from app.config import Settings
from app.core.clock import Clock
from app.core.db import Database
from app.core.deadline import within
from app.core.driver_sql import NeedsTransaction
from app.core.types import MAX_DB_INT
from app.ivr import (
    CallState,
    Digits,
    Event,
    Flow,
    Gather,
    Hangup,
    NoInput,
    PathEntry,
    PromptItem,
    Record,
    RecordingDone,
    Route,
    RouteResult,
    Speech,
    Start,
    Transfer,
    TransferResult,
    Turn,
    advance,
    fill_queue_placeholders,
    flows_for_number,
)
from app.models.call import MAX_SID, TERMINAL_STATUSES, Call
from app.routing import ending, presence
from app.routing import queue as queues
from app.routing.dispatch import Choice, route_live
from app.telephony import fallback, twiml
from app.telephony.resolve import FlowDidNotSettle, KnownAccounts, Settled, request_for, settle
from app.telephony.urls import CallbackUrls
from app.worklist import service as worklist

logger = logging.getLogger("switchboard.telephony")

# Twilio waits 15 s for TwiML and then plays its own error: answer well before that.
VOICE_DEADLINE_SECONDS = 8.0
CONFLICT_RETRIES = 3

LAST_RESORT = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="Polly.Joanna" '
    'language="en-US">We\'re sorry, we cannot take your call right now. Please call again '
    "later.</Say><Hangup /></Response>"
)

Hook = Literal["voice", "gather", "dial", "recorded", "transfer", "queue"]


@dataclass(frozen=True)
class Telephony:
    """What answering a webhook needs from the app: settings, database, clock, flows."""

    settings: Settings
    db: Database
    clock: Clock
    flows: Mapping[str, Flow]

    @property
    def urls(self) -> CallbackUrls:
        """Callback URL builder for PUBLIC_BASE_URL."""
        return CallbackUrls(self.settings.public_base_url)


@dataclass(frozen=True)
class VoiceWebhook:
    """One webhook of the caller's leg: which one, its form, and what its URL carried."""

    hook: Hook
    form: Mapping[str, str]
    version: int | None = None  # the state version the callback URL was issued for
    language: str | None = None  # the call's language then (for the apology)
    step: str | None = None  # the step whose input a gather's URL awaits


class StateConflict(Exception):
    """Another request advanced the call's state first."""


class CallUnknown(Exception):
    """A callback for a call that has no stored state."""


class NoFlow(Exception):
    """No flow answers the called number (or the call's flow is gone)."""


async def answer(tel: Telephony, webhook: VoiceWebhook) -> str:
    """The TwiML for a caller's webhook; on any failure the apology and the fallback."""
    sid = webhook.form.get("CallSid", "")
    try:
        # The deadline covers the whole answer: waiting for a pooled connection, the
        # queries, and (given up on at the deadline) a rollback on a database that hangs.
        return await within(
            VOICE_DEADLINE_SECONDS, _answer_retrying(tel, webhook), what=f"/twilio/{webhook.hook}"
        )
    except Exception:
        logger.exception(
            "answering /twilio/%s failed for call %s; the caller gets the fallback",
            webhook.hook,
            sid,
            extra={"call_sid": sid, "hook": webhook.hook},
        )
        return apology(tel, webhook)


def apology(tel: Telephony, webhook: VoiceWebhook) -> str:
    """The fallback TwiML for this webhook, built without the database."""
    try:
        flow = flows_for_number(tel.flows, webhook.form.get("To", ""))
        return fallback.apology(
            tel.urls,
            fallback_number=tel.settings.fallback_number,
            language=webhook.language,
            flow=flow,
        )
    except Exception:  # the fallback must not fail; this one cannot
        logger.exception("building the fallback failed", extra={"hook": webhook.hook})
        return LAST_RESORT


# The caller's webhooks that may run without a transaction (PostgreSQL): most of them read
# the call and write one statement, its versioned save (`Database.webhook_transaction`).
ALONE_HOOKS = frozenset({"voice", "gather"})
# Webhooks, by their shape, that ran into work needing a transaction (a routing decision, a
# work item): the next of that shape starts in one. Bounded: forgotten all at once when full.
_NEEDS_TRANSACTION: dict[tuple[str, str, str, bool, bool], None] = {}
_SHAPES_KEPT = 1024


def _shape(webhook: VoiceWebhook) -> tuple[str, str, str, bool, bool]:
    """What decides, before anything is read, whether a webhook writes more than its save:
    the hook, the step awaiting input, the keys pressed, speech, the caller gone."""
    form = webhook.form
    return (
        webhook.hook,
        (webhook.step or "")[:64],
        form.get("Digits", "").strip()[:16],
        bool(form.get("SpeechResult")),
        form.get("CallStatus") in TERMINAL_STATUSES,
    )


# PostgreSQL: the teams whose hours webhooks of each shape asked for (the `hours` step
# right after a menu): the next of that shape reads them with the call
# (`records.call_and_state(hours=...)`), a round trip fewer. Bounded like the above, and
# to a few teams a shape (past them, those last asked).
_HOURS_ASKED: dict[tuple[str, str, str, bool, bool], tuple[str, ...]] = {}
_HOURS_TEAMS_KEPT = 8


def _hours_ahead(tel: Telephony, webhook: VoiceWebhook, now: datetime) -> HoursAhead | None:
    """What to read ahead of the `hours` step with the call (None: nothing, SQLite)."""
    if tel.db.is_sqlite:
        return None
    return HoursAhead(_HOURS_ASKED.get(_shape(webhook), ()), now, now + LOOK_AHEAD)


def _learn_hours(webhook: VoiceWebhook, ahead: HoursAhead | None) -> None:
    """Add the teams whose hours this webhook asked for to its shape's (which teams a
    line checks can depend on the caller: a paid tier's team first)."""
    if ahead is None or not ahead.asked or set(ahead.asked) <= set(ahead.teams):
        return
    if len(_HOURS_ASKED) >= _SHAPES_KEPT:
        _HOURS_ASKED.clear()
    teams = tuple(dict.fromkeys((*ahead.teams, *ahead.asked)))
    _HOURS_ASKED[_shape(webhook)] = teams if len(teams) <= _HOURS_TEAMS_KEPT else ahead.asked


def _starts_alone(tel: Telephony, webhook: VoiceWebhook) -> bool:
    return (
        webhook.hook in ALONE_HOOKS
        and not tel.db.is_sqlite
        and _shape(webhook) not in _NEEDS_TRANSACTION
    )


def _learn_needs_transaction(webhook: VoiceWebhook) -> None:
    if len(_NEEDS_TRANSACTION) >= _SHAPES_KEPT:
        _NEEDS_TRANSACTION.clear()
    _NEEDS_TRANSACTION[_shape(webhook)] = None


async def _answer_retrying(tel: Telephony, webhook: VoiceWebhook) -> str:
    alone = _starts_alone(tel, webhook)
    # A call's first webhook is almost always the first Switchboard hears of the call: it
    # reads nothing first, and the INSERT of the call finds out otherwise (the CallSid is
    # taken: Twilio repeated the webhook, or a status callback came first), whereupon the
    # answer runs again as for a call already known.
    new = webhook.hook == "voice"
    attempt = 1
    while True:
        try:
            return await _answer_once(tel, webhook, alone=alone, new=new)
        except NeedsTransaction as need:
            if not alone:
                raise
            # Nothing was written: the same answer again, in a transaction.
            if need.by_the_work:
                _learn_needs_transaction(webhook)
            alone = False
        except (StateConflict, IntegrityError):
            if new:  # the call was known after all: no attempt of the three spent
                new = False
                continue
            if attempt == CONFLICT_RETRIES:
                raise
            logger.info(
                "call %s changed under this webhook; answering again",
                webhook.form.get("CallSid", ""),
                extra={"call_sid": webhook.form.get("CallSid", ""), "hook": webhook.hook},
            )
            attempt += 1


async def _answer_once(
    tel: Telephony, webhook: VoiceWebhook, *, alone: bool = False, new: bool = False
) -> str:
    form = webhook.form
    sid = form.get("CallSid", "").strip()
    if not sid or len(sid) > MAX_SID:
        raise CallUnknown("the webhook has no CallSid Switchboard can store")
    now = tel.clock.now()
    async with tel.db.webhook_transaction(alone=alone) as session:
        ahead = None if new else _hours_ahead(tel, webhook, now)
        record, row = (
            (None, None) if new else await records.call_and_state(session, sid, hours=ahead)
        )
        replayed = _replay(webhook, row)
        if replayed is not None:
            logger.info("repeated webhook for call %s; answering as before", sid)
            return replayed
        state: CallState | None
        if webhook.hook == "voice":
            flow = flows_for_number(tel.flows, form.get("To", ""))
            if flow is None:
                raise NoFlow(f"no flow answers {form.get('To', '')!r} and none is the default")
            if record is None:
                record = records.opened(
                    calls.new_call(
                        sid=sid,
                        from_number=form.get("From", ""),
                        to_number=form.get("To", ""),
                        status=form.get("CallStatus"),
                        now=now,
                    )
                )
            state = None
            turn = advance(flow, None, Start(form.get("From", ""), form.get("To", ""), now=now))
        else:
            if record is None or row is None:
                raise CallUnknown(f"no IVR state for call {sid}")
            state = CallState.from_dict(row.state)
            found = tel.flows.get(state.flow)
            if found is None:
                raise NoFlow(f"the call's flow {state.flow!r} is no longer loaded")
            flow = found
            if webhook.hook == "queue":
                event = await _queue_event(session, record.call, flow, state, webhook, now)
            else:
                event = await _event_for(session, record.call, webhook, now)
            turn = advance(flow, state, event)
        call = record.call
        caller_gone = webhook.hook != "voice" and form.get("CallStatus") in TERMINAL_STATUSES
        if caller_gone:
            # Twilio still calls the action after the caller hung up: record, ring nobody.
            turn = Turn(replace(turn.state, stage="ended"), (), Hangup())
            calls.promote_outcome(call, "abandoned")
            await call_ended(session, call, now=now)
        known = record

        async def route(action: Route) -> Choice:
            known_call = known.call
            if known_call.id is None:
                await records.store(session, known)
            # Attempts exist only once the call was routed: a first route asks nothing.
            attempts = (
                await call_records.attempts_of(session, known_call.id)
                if known_call.routed_at is not None
                else []
            )
            return await route_live(
                session,
                request_for(action),
                call=known_call,
                now=now,
                exclude={a.specialist_id for a in attempts if a.specialist_id is not None},
                ring_timeout=action.ring_timeout,
                max_wait=action.max_wait,
                batch=action.attempt,
            )

        settled = await settle(
            session,
            flow,
            turn,
            now=now,
            region=tel.settings.default_region,
            route=route,
            known=KnownAccounts.of(call.from_number, record.caller_accounts),
            hours_ahead=ahead,
        )
        _learn_hours(webhook, ahead)
        # What the IVR learnt goes into the call row before it is first written, so a new
        # call is one INSERT, not an INSERT and an UPDATE. A call's row is written once, with
        # whatever the answer adds (routed, team), by `_save`: a new call's INSERT too (on
        # PostgreSQL in the statement that writes its path and state), unless something
        # needed its id before (routing, a callback request).
        await _sync_call(session, record, settled.turn.state, now)
        version = row.version + 1 if row is not None else 1
        xml = await _render(session, tel, call, settled, version, now)
        if isinstance(settled.turn.action, Hangup) and not caller_gone:
            calls.promote_outcome(call, "ended")
        await _save(session, record, row, state, settled.turn.state, xml, now)
        return xml


async def _save(
    session: AsyncSession,
    record: records.CallRecord,
    row: records.StoredState | None,
    before: CallState | None,
    after: CallState,
    xml: str,
    now: datetime,
) -> None:
    """Write the call record, its new path entries and the state, in the caller's transaction.

    Raises StateConflict when another request saved a newer state since this one read it.
    """
    await _sync_call(session, record, after, now)
    call = record.call
    new_entries = appended(before.path if before else (), after.path)
    first = row.path_logged if row is not None else 0
    path = calls.path_rows(
        call.id, [(e.step, e.input, e.at) for e in new_entries], first_seq=first, now=now
    )
    # The path is logged as rows (`call_steps`), not kept in the state: the next webhook
    # starts from an empty one, so whatever the engine adds to it is new (a state stored
    # with its path, by an earlier version, is told apart by `appended` as before).
    kept = after.evolved(path=()) if after.path else after
    values = {
        "state": kept.to_dict(),
        "last_response": xml,
        "path_logged": first + len(new_entries),
        "updated_at": now,
    }
    read_version = row.version if row is not None else None
    if not await records.save_with_state(session, record, path, values, read_version=read_version):
        raise StateConflict(call.sid)


def _replay(webhook: VoiceWebhook, row: records.StoredState | None) -> str | None:
    """The earlier answer when this webhook was already handled, else None."""
    if row is None:
        return None
    if webhook.hook == "voice" or (webhook.version is not None and webhook.version != row.version):
        return row.last_response
    return None


def form_int(raw: str | None) -> int | None:
    """A whole number Twilio sent (a duration, sequence number or id in a URL we issued).

    None when absent, garbled, negative or larger than the database stores: a bad number
    is ignored, never a failure (an overflowing INTEGER would fail the whole webhook).
    """
    if not raw or not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if value <= MAX_DB_INT else None


def _confidence(raw: str | None) -> float:
    try:
        value = float(raw) if raw else 1.0
    except ValueError:
        return 1.0
    return value if math.isfinite(value) else 1.0


async def _event_for(
    session: AsyncSession, call: Call, webhook: VoiceWebhook, now: datetime
) -> Event:
    """The engine event a webhook stands for (recording what it tells about the call)."""
    form = webhook.form
    if webhook.hook == "dial":
        # The outcome comes from DialCallStatus; CallStatus is the caller's own leg.
        end = await calls.dial_finished(
            session,
            call,
            dial_status=form.get("DialCallStatus", ""),
            dial_sid=form.get("DialCallSid"),
            dial_duration=form_int(form.get("DialCallDuration")),
            now=now,
        )
        # The <Dial> is over: whoever was rung or talked with the caller is free again.
        await presence.release_call(session, call.id, now=now)
        if end.outcome == "answered":
            await queues.leave_call(session, call.id, "connected", now=now)
        who = str(end.specialist_id) if end.specialist_id is not None else None
        return RouteResult(end.outcome, specialist_id=who, now=now)
    if webhook.hook == "recorded":
        url = form.get("RecordingUrl", "")
        duration = form_int(form.get("RecordingDuration")) or 0
        calls.record_voicemail(call, url, duration, now=now)
        if call.voicemail_url:
            await worklist.open_item(session, call, "voicemail", now=now)
        return RecordingDone(url, duration, now=now)
    if webhook.hook == "transfer":
        answered = form.get("DialCallStatus") == "completed"
        if answered:
            calls.promote_outcome(call, "transferred")
        return TransferResult(answered, now=now)
    digits = form.get("Digits", "").strip()
    speech = form.get("SpeechResult", "").strip()
    if digits:
        return Digits(digits, now=now)
    if speech:
        return Speech(speech, confidence=_confidence(form.get("Confidence")), now=now)
    return NoInput(now=now)


async def _render(
    session: AsyncSession,
    tel: Telephony,
    call: Call,
    settled: Settled,
    version: int,
    now: datetime,
) -> str:
    """TwiML for the settled action; a ring also records its attempts."""
    urls = tel.urls
    state = settled.turn.state
    action = settled.turn.action
    prompts = settled.prompts
    language = state.language
    if isinstance(action, Gather):
        return str(twiml.gather(prompts, action, urls.gather(version, language, state.step)))
    if isinstance(action, Route) and settled.wait is not None:
        call.routed_at = call.routed_at or now
        call.team = action.team
        return str(_hold(tel, action, settled, version))
    if isinstance(action, Route):
        call.routed_at = call.routed_at or now
        call.team = action.team
        attempts = [
            calls.new_attempt(
                call,
                specialist_id=c.specialist_id,
                team=c.team,
                batch=action.attempt,
                contact=c.contact,
                now=now,
            )
            for c in settled.ring
        ]
        unwritten = []
        for attempt, candidate in zip(attempts, settled.ring, strict=True):
            if candidate.attempt_id is None:
                unwritten.append(attempt)
            else:  # written with the reservation (PostgreSQL)
                attempt.id = candidate.attempt_id
        if unwritten:
            await records.ring_attempts(session, call.id, unwritten)
        legs = [
            twiml.Leg(a.contact, urls.whisper(call.sid, a.id), urls.leg(call.sid, a.id))
            for a in attempts
        ]
        response = twiml.ring(
            [*prompts, *action.announce],
            legs,
            timeout=action.ring_timeout,
            url=urls.dial(version, language),
        )
        return str(response)
    if isinstance(action, Record):
        # Twilio's built-in transcription understands English only; other languages keep
        # the recording without a misleading transcript.
        english = (language or "en").split("-")[0] == "en"
        response = twiml.record(
            prompts,
            replace(action, transcribe=action.transcribe and english),
            url=urls.recorded(version, language),
            recording_url=urls.recording(),
            transcription_url=urls.transcription(),
        )
        return str(response)
    if isinstance(action, Transfer):
        return str(twiml.transfer(prompts, action, urls.transfer(version, language)))
    if isinstance(action, Hangup):
        return str(twiml.hangup(prompts))
    raise FlowDidNotSettle(f"cannot answer a caller with {type(action).__name__}")


def _hold(tel: Telephony, action: Route, settled: Settled, version: int) -> str:
    """Hold in the queue: position (about once a minute), the callback offer, music."""
    wait = settled.wait
    assert wait is not None
    spoken: list[PromptItem] = list(settled.prompts)
    if wait.announce:
        minutes = max(1, round(wait.waited.total_seconds() / 60))
        spoken += fill_queue_placeholders(action.hold, wait.position, minutes)
        spoken += action.callback_offer
    return twiml.hold(
        spoken,
        url=tel.urls.queue(version, settled.turn.state.language),
        callback_key=action.callback_key,
        music_url=tel.settings.hold_music_url,
        pause_seconds=tel.settings.queue_check_seconds,
    )


async def _queue_event(
    session: AsyncSession,
    call: Call,
    flow: Flow,
    state: CallState,
    webhook: VoiceWebhook,
    now: datetime,
) -> Event:
    """A queued caller's periodic check, or their key press asking for a callback."""
    digits = webhook.form.get("Digits", "").strip()
    current = advance(flow, state, NoInput(now=now)).action
    if digits and isinstance(current, Route) and digits == current.callback_key:
        await queues.leave_call(session, call.id, "callback", now=now)
        return RouteResult("callback_requested", now=now)
    return NoInput(now=now)


async def call_ended(session: AsyncSession, call: Call, *, now: datetime) -> None:
    """The caller is gone: free anyone reserved for the call and leave the queue."""
    if call.id is None:
        return
    await ending.end_call(session, call.id, "abandoned", now=now)


async def _sync_call(
    session: AsyncSession, record: records.CallRecord, state: CallState, now: datetime
) -> None:
    """Copy what the IVR learnt (flow, language, topic, account, callback) to the call."""
    call = record.call
    # Set only what changed: setting a mapped attribute runs the ORM's change events even
    # when the value is the same (the call's UPDATE writes changed columns either way).
    if call.flow != state.flow:
        call.flow = state.flow
    if call.language != state.language:
        call.language = state.language
    if call.topic != state.topic:
        call.topic = state.topic
    account = state.account
    if account is not None and account.id.isdigit() and call.account_id != int(account.id):
        call.account_id = int(account.id)
    if state.callback_number and state.callback_number != call.callback_number:
        call.callback_number = state.callback_number
        calls.promote_outcome(call, "callback")
        if call.id is None:
            await records.store(session, record)
        await worklist.open_item(session, call, "callback", now=now)
    call.updated_at = now


def appended(old: Sequence[PathEntry], new: Sequence[PathEntry]) -> Sequence[PathEntry]:
    """The entries `new` adds to `old` (the engine keeps only the last entries of a path)."""
    for dropped in range(len(old) + 1):
        kept = old[dropped:]
        if tuple(new[: len(kept)]) == tuple(kept):
            return new[len(kept) :]
    return new
