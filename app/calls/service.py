"""The call log: opening calls, status timelines, outcomes, voicemail and ringing attempts.

Status callbacks are idempotent (a repeated event is recorded once and changes nothing) and
order-safe (a call's status only moves forward: a late `ringing` never replaces
`in-progress`, and a terminal status such as `completed` is final).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from app.calls import repository
from app.models.base import unevented
from app.models.call import (
    CALL_STATUSES,
    TERMINAL_STATUSES,
    Call,
    RingAttempt,
)

STATUS_RANK = {"queued": 0, "initiated": 0, "ringing": 1, "in-progress": 2}
OUTCOME_RANK = {
    "abandoned": 1,
    "ended": 2,
    "callback": 3,
    "transferred": 4,
    "voicemail": 5,
    "answered": 6,
}
Outcome = Literal["answered", "voicemail", "transferred", "callback", "ended", "abandoned"]
LEG_FAILURES = ("no-answer", "busy", "failed", "canceled")
FINAL_ATTEMPT = ("accepted", "declined", *LEG_FAILURES)


def status_rank(status: str) -> int:
    """How far along a call status is: queued 0 .. in-progress 2, terminal 3."""
    return STATUS_RANK.get(status, 3)


def twilio_time(raw: str | None, default: datetime) -> datetime:
    """A Twilio `Timestamp` (RFC 2822) as an aware datetime, else `default`."""
    if not raw:
        return default
    try:
        parsed = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return default
    return parsed if parsed.tzinfo is not None else default


def new_call(
    *, sid: str, from_number: str, to_number: str, status: str | None, now: datetime
) -> Call:
    """A new call record (its first webhook), in memory: `records.store` writes it (for the
    session to write it, `open_call`)."""
    return unevented(Call, **_call_values(sid, from_number, to_number, status, now))


def open_call(
    session: AsyncSession,
    *,
    sid: str,
    from_number: str,
    to_number: str,
    status: str | None,
    now: datetime,
) -> Call:
    """A new call record (its first webhook), added to the session."""
    call = Call(**_call_values(sid, from_number, to_number, status, now))
    session.add(call)
    return call


def _call_values(
    sid: str, from_number: str, to_number: str, status: str | None, now: datetime
) -> dict[str, Any]:
    return {
        "sid": sid,
        "from_number": from_number[:64],
        "to_number": to_number[:64],
        "status": status if status in CALL_STATUSES else "ringing",
        "started_at": now,
        "created_at": now,
        "updated_at": now,
    }


def promote_outcome(call: Call, outcome: Outcome) -> None:
    """Set the call's outcome unless it already has a more telling one."""
    current = call.outcome
    if current is None or OUTCOME_RANK[outcome] > OUTCOME_RANK.get(current, 0):
        call.outcome = outcome


@dataclass(frozen=True)
class StatusUpdate:
    """One status callback of a call."""

    status: str
    sequence: int | None
    at: datetime
    duration: int | None = None


def event_status(status: str) -> str | None:
    """The call status a callback's CallStatus records (None: none Switchboard knows)."""
    status = "in-progress" if status == "answered" else status
    return status if status in CALL_STATUSES else None


async def apply_status(
    session: AsyncSession,
    call: Call,
    update: StatusUpdate,
    *,
    now: datetime,
    recorded: bool | None = None,
) -> bool:
    """Record a status callback; False when it was a duplicate (nothing changes then).

    `recorded`: whether its event was recorded as new already, by the statement that read
    the call (`records.call_by_sid` given the event); None: recorded here.
    """
    status = event_status(update.status)
    if status is None:
        return False
    if recorded is None:
        recorded = await repository.record_event(
            session, call.id, status, update.sequence, at=update.at, received_at=now
        )
    if not recorded:
        return False
    call.updated_at = now
    if status in ("initiated", "ringing") and update.at < call.started_at:
        call.started_at = update.at
    if status in TERMINAL_STATUSES:
        call.ended_at = call.ended_at or update.at
        if call.duration is None and update.duration is not None:
            call.duration = update.duration
        promote_outcome(call, "abandoned")
    if _moves_forward(call, status, update.sequence):
        call.status = status
        call.status_seq = update.sequence
    return True


def _moves_forward(call: Call, status: str, sequence: int | None) -> bool:
    if call.status in TERMINAL_STATUSES:
        return False
    if sequence is not None and call.status_seq is not None and sequence < call.status_seq:
        return False
    return status_rank(status) >= status_rank(call.status)


def path_rows(
    call_id: int,
    entries: Sequence[tuple[str, str | None, str | None]],
    *,
    first_seq: int,
    now: datetime,
) -> list[dict[str, Any]]:
    """The call_steps rows of IVR path entries (step, input, ISO time) from `first_seq` on.

    Written with `records.insert_steps` in one statement however many entries a webhook adds.
    """
    rows: list[dict[str, Any]] = []
    for seq, (step, heard, at) in enumerate(entries, start=first_seq):
        when = now
        if at:
            try:
                when = datetime.fromisoformat(at)
            except ValueError:
                when = now
        rows.append(
            {
                "call_id": call_id,
                "seq": seq,
                "step": step[:100],
                "input": None if heard is None else heard[:500],
                "at": when if when.tzinfo is not None else now,
            }
        )
    return rows


def record_voicemail(call: Call, url: str, duration: int | None, *, now: datetime) -> None:
    """Attach a voicemail recording to the call (the same recording twice is harmless)."""
    if not url:
        return
    call.voicemail_url = url[:500]
    if duration is not None:
        call.voicemail_duration = duration
    promote_outcome(call, "voicemail")
    call.updated_at = now


def record_transcription(call: Call, text: str, *, now: datetime) -> None:
    """Attach the voicemail's transcription."""
    call.voicemail_transcription = text
    call.updated_at = now


# ringing attempts ---------------------------------------------------------------------


def start_attempt(
    session: AsyncSession,
    call: Call,
    *,
    specialist_id: int,
    team: str,
    batch: int,
    contact: str,
    now: datetime,
) -> RingAttempt:
    """Record that a specialist is being rung for the call (added to the session)."""
    attempt = RingAttempt(**_attempt_values(call, specialist_id, team, batch, contact, now))
    session.add(attempt)
    return attempt


def new_attempt(
    call: Call, *, specialist_id: int, team: str, batch: int, contact: str, now: datetime
) -> RingAttempt:
    """A ringing attempt in memory: `records.insert_attempts` writes it (for the session to
    write it, `start_attempt`)."""
    return unevented(RingAttempt, **_attempt_values(call, specialist_id, team, batch, contact, now))


def _attempt_values(
    call: Call, specialist_id: int, team: str, batch: int, contact: str, now: datetime
) -> dict[str, Any]:
    return {
        "call_id": call.id,
        "specialist_id": specialist_id,
        "team": team,
        "batch": batch,
        "contact": contact[:255],
        "rung_at": now,
        "result": "ringing",
    }


def whisper_reached(attempt: RingAttempt, leg_sid: str | None) -> None:
    """The specialist picked up and hears the whisper."""
    if leg_sid and not attempt.leg_sid:
        attempt.leg_sid = leg_sid[:64]
    if attempt.result == "ringing":
        attempt.result = "whisper"


def whisper_answered(call: Call, attempt: RingAttempt, *, accepted: bool, now: datetime) -> None:
    """The specialist pressed 1 (accepted) or anything else (declined) after the whisper."""
    if attempt.result in FINAL_ATTEMPT:
        return
    if not accepted:
        attempt.result = "declined"
        attempt.ended_at = now
        return
    attempt.result = "accepted"
    _answered_by(call, attempt, now)


def _answered_by(call: Call, attempt: RingAttempt, at: datetime) -> None:
    if call.answered_by_id is None:
        call.answered_by_id = attempt.specialist_id
    call.answered_at = call.answered_at or at
    call.team = attempt.team
    promote_outcome(call, "answered")
    call.updated_at = at


def leg_status(attempt: RingAttempt, status: str, leg_sid: str | None, *, now: datetime) -> None:
    """A status callback of the leg to the specialist (order-safe, idempotent)."""
    if leg_sid and not attempt.leg_sid:
        attempt.leg_sid = leg_sid[:64]
    if status in TERMINAL_STATUSES:
        if attempt.result == "accepted":
            attempt.ended_at = attempt.ended_at or now
        elif attempt.result not in FINAL_ATTEMPT:
            # A leg that picked up but never accepted (whisper ignored, or voicemail).
            attempt.result = "declined" if status == "completed" else status
            attempt.ended_at = now
    elif status in ("in-progress", "answered") and attempt.result == "ringing":
        attempt.result = "whisper"


RouteOutcome = Literal["answered", "no_answer", "busy", "failed"]


@dataclass(frozen=True)
class DialEnd:
    """How a ringing <Dial> ended for the IVR: an outcome and who answered."""

    outcome: RouteOutcome
    specialist_id: int | None = None


async def dial_finished(
    session: AsyncSession,
    call: Call,
    *,
    dial_status: str,
    dial_sid: str | None,
    dial_duration: int | None,
    now: datetime,
) -> DialEnd:
    """Close the ringing attempts by the Dial's DialCallStatus and say how routing went."""
    attempts = await repository.attempts_of(session, call.id)
    ringing = [a for a in attempts if a.result in ("ringing", "whisper")]
    if dial_status == "completed":
        chosen = _answering_attempt(attempts, ringing, dial_sid)
        if chosen is not None and chosen.result == "declined":
            _close(ringing, "canceled", now)
            return DialEnd("no_answer")
        if chosen is not None:
            if dial_sid and not chosen.leg_sid:
                chosen.leg_sid = dial_sid[:64]
            chosen.result = "accepted"
            answered_at = now - timedelta(seconds=dial_duration or 0)
            _answered_by(call, chosen, answered_at)
        else:
            promote_outcome(call, "answered")
        _close([a for a in ringing if a is not chosen], "canceled", now)
        return DialEnd("answered", chosen.specialist_id if chosen else None)
    result = dial_status if dial_status in LEG_FAILURES else "no-answer"
    _close(ringing, result, now)
    outcomes: dict[str, RouteOutcome] = {"busy": "busy", "failed": "failed"}
    return DialEnd(outcomes.get(result, "no_answer"))


def _answering_attempt(
    attempts: Sequence[RingAttempt], ringing: Sequence[RingAttempt], dial_sid: str | None
) -> RingAttempt | None:
    # A call ends when a specialist accepts, so at most one attempt is ever accepted.
    accepted = [a for a in attempts if a.result == "accepted"]
    if accepted:
        return accepted[-1]
    if dial_sid:
        for attempt in attempts:
            if attempt.leg_sid == dial_sid:
                return attempt
    return ringing[0] if len(ringing) == 1 else None


def _close(attempts: Sequence[RingAttempt], result: str, now: datetime) -> None:
    for attempt in attempts:
        attempt.result = result
        attempt.ended_at = now
