"""API schemas of the call log."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from app.models.call import Call
from app.models.routing import QueueEntry


class Voicemail(BaseModel):
    """A message the caller left."""

    url: str
    duration: int | None
    transcription: str | None


class CallOut(BaseModel):
    """A call as the list shows it."""

    sid: str
    from_number: str
    to_number: str
    account_id: int | None
    flow: str | None
    language: str | None
    topic: str | None
    team: str | None
    status: str
    outcome: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration: int | None
    answered_by: int | None
    voicemail: Voicemail | None
    callback_number: str | None
    direction: str = "inbound"
    work_item_id: int | None = None
    error: str | None = None


class PathStep(BaseModel):
    """One step of the call's way through the IVR, with the caller's input or a result."""

    seq: int
    step: str
    input: str | None
    at: datetime


class StatusEventOut(BaseModel):
    """One status callback as Twilio sent it."""

    status: str
    sequence: int | None
    at: datetime
    received_at: datetime


class AttemptOut(BaseModel):
    """A specialist rung for the call and how it ended."""

    specialist_id: int | None
    team: str
    batch: int
    rung_at: datetime
    ended_at: datetime | None
    result: str


class QueueOut(BaseModel):
    """The call's time in a team's queue (the last queue it waited in)."""

    team: str
    priority: int
    enqueued_at: datetime
    left_at: datetime | None
    result: str | None  # connected, timeout, callback, abandoned, moved_on; None: waiting
    wait_seconds: float | None


class CallDetail(CallOut):
    """A call with its IVR path, queue, status timeline and ringing attempts."""

    routed_at: datetime | None
    queue: QueueOut | None
    path: list[PathStep]
    status_events: list[StatusEventOut]
    attempts: list[AttemptOut]
    disposition: str | None = None  # the outcome code the specialist put on it


def voicemail_of(call: Call) -> Voicemail | None:
    """The call's voicemail, if the caller left one."""
    if not call.voicemail_url:
        return None
    return Voicemail(
        url=call.voicemail_url,
        duration=call.voicemail_duration,
        transcription=call.voicemail_transcription,
    )


def call_out(call: Call) -> CallOut:
    """The list view of a call."""
    return CallOut(
        sid=call.sid,
        from_number=call.from_number,
        to_number=call.to_number,
        account_id=call.account_id,
        flow=call.flow,
        language=call.language,
        topic=call.topic,
        team=call.team,
        status=call.status,
        outcome=call.outcome,
        started_at=call.started_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        duration=call.duration,
        answered_by=call.answered_by_id,
        voicemail=voicemail_of(call),
        callback_number=call.callback_number or None,
        direction=call.direction,
        work_item_id=call.work_item_id,
        error=call.error,
    )


def call_detail(call: Call, entry: QueueEntry | None = None) -> CallDetail:
    """The full view of a call (steps, events and attempts must be loaded)."""
    queue = None
    if entry is not None:
        wait = (entry.left_at - entry.enqueued_at).total_seconds() if entry.left_at else None
        queue = QueueOut(
            team=entry.team,
            priority=entry.priority,
            enqueued_at=entry.enqueued_at,
            left_at=entry.left_at,
            result=entry.result,
            wait_seconds=wait,
        )
    return CallDetail(
        **call_out(call).model_dump(),
        routed_at=call.routed_at,
        queue=queue,
        path=[PathStep(seq=s.seq, step=s.step, input=s.input, at=s.at) for s in call.steps],
        status_events=[
            StatusEventOut(status=e.status, sequence=e.sequence, at=e.at, received_at=e.received_at)
            for e in call.events
        ],
        attempts=[
            AttemptOut(
                specialist_id=a.specialist_id,
                team=a.team,
                batch=a.batch,
                rung_at=a.rung_at,
                ended_at=a.ended_at,
                result=a.result,
            )
            for a in call.attempts
        ],
    )
