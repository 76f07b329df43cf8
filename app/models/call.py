"""The call log: calls, their IVR path, status timeline, ringing attempts and IVR state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import NEVER_REUSE_IDS, Base, UTCDateTime, set_only_index

# Twilio's CallStatus values (`answered` arrives as `in-progress`).
CALL_STATUSES = (
    "queued",
    "initiated",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
)
DIRECTIONS = ("inbound", "outbound")
TERMINAL_STATUSES = ("completed", "busy", "failed", "no-answer", "canceled")
MAX_SID = 64  # Twilio's sids are 34 characters; room for other providers' ids
# How a call ended for the caller (None while it is still going on).
OUTCOMES = ("answered", "voicemail", "transferred", "callback", "ended", "abandoned")
# ringing -> whisper (picked up, hearing who is calling) -> accepted | declined,
# or a leg that never got that far: no-answer, busy, failed, canceled.
ATTEMPT_RESULTS = (
    "ringing",
    "whisper",
    "accepted",
    "declined",
    "no-answer",
    "busy",
    "failed",
    "canceled",
)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Call(Base):
    """One inbound call, created by its first webhook (voice or status)."""

    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint(_one_of("status", CALL_STATUSES), name="status_known"),
        CheckConstraint(f"outcome IS NULL OR {_one_of('outcome', OUTCOMES)}", name="outcome_known"),
        CheckConstraint(_one_of("direction", DIRECTIONS), name="direction_known"),
        Index("ix_calls_started_at", "started_at"),
        set_only_index("calls", "account_id"),
        set_only_index("calls", "team"),
        set_only_index("calls", "answered_by_id"),
        set_only_index("calls", "work_item_id"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid: Mapped[str] = mapped_column(String(MAX_SID), unique=True)
    from_number: Mapped[str] = mapped_column(String(64))
    to_number: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    flow: Mapped[str | None] = mapped_column(String(100), nullable=True)
    language: Mapped[str | None] = mapped_column(String(10), nullable=True)
    topic: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The team the call was last offered to (the one that answered, when answered).
    team: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    # SequenceNumber of the status callback that set `status` (order-safety).
    status_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    duration: Mapped[int | None] = mapped_column(Integer, nullable=True)
    answered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("specialists.id", ondelete="SET NULL"), nullable=True
    )
    voicemail_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    voicemail_duration: Mapped[int | None] = mapped_column(Integer, nullable=True)
    voicemail_transcription: Mapped[str | None] = mapped_column(Text, nullable=True)
    callback_number: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # Inbound: a customer called; outbound: Switchboard called a customer back (a work item).
    direction: Mapped[str] = mapped_column(String(10), default="inbound", server_default="inbound")
    work_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_items.id", ondelete="SET NULL", use_alter=True), nullable=True
    )
    # Why Twilio's REST API refused or never confirmed the call (outbound calls).
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # When the call left the IVR for a route step (rung or queued): the wait starts here.
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When the caller's details (number, recording, transcript, notes) were scrubbed, by an
    # erasure or the retention job; the call's anonymous figures stay for reports.
    scrubbed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    steps: Mapped[list[CallStep]] = relationship(
        lazy="raise", order_by="CallStep.seq", passive_deletes=True
    )
    events: Mapped[list[CallStatusEvent]] = relationship(
        lazy="raise", order_by="CallStatusEvent.id", passive_deletes=True
    )
    attempts: Mapped[list[RingAttempt]] = relationship(
        lazy="raise", order_by="RingAttempt.id", passive_deletes=True
    )


class CallStateRow(Base):
    """Where a call is in its IVR flow (CallState.to_dict()), shared by all app instances.

    Every update is `... WHERE version = <the version read>` and bumps it (optimistic
    concurrency): two webhooks of one call handled at once cannot both advance it. Callback
    URLs carry the version they answer; `last_response` is the TwiML that moved the call to
    the current version, replayed when Twilio repeats a webhook. `path_logged` counts the
    path entries already copied to call_steps.
    """

    __tablename__ = "call_states"

    call_id: Mapped[int] = mapped_column(
        ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    last_response: Mapped[str | None] = mapped_column(Text, nullable=True)
    path_logged: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CallStep(Base):
    """One step entered, or one input or result received, on the call's way through the IVR."""

    __tablename__ = "call_steps"

    # Keyed by the call and the step's place in its path: a call writes about ten of these,
    # and a surrogate id would be one more index entry for each (migration 0015).
    call_id: Mapped[int] = mapped_column(
        ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    step: Mapped[str] = mapped_column(String(100))
    input: Mapped[str | None] = mapped_column(String(500), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class CallStatusEvent(Base):
    """One status callback as received (the call's status timeline)."""

    __tablename__ = "call_status_events"
    # Its unique constraint leads with call_id, so it serves lookups by call: no index of
    # call_id alone (one index entry fewer per status callback, migration 0015).
    __table_args__ = (UniqueConstraint("call_id", "status", "sequence"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    sequence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


ATTEMPTS_FILLFACTOR = 90


class RingAttempt(Base):
    """One specialist rung for a call: who, when, and how it ended."""

    __tablename__ = "call_attempts"
    __table_args__ = (
        CheckConstraint(_one_of("result", ATTEMPT_RESULTS), name="result_known"),
        # Round robin: the last specialist offered a call in a team.
        Index("ix_call_attempts_team_id", "team", "id"),
        set_only_index("call_attempts", "transfer_id"),
        # Not indexed: leg_sid (filled in by the leg's first callback; nothing looks an
        # attempt up by it), so a leg's callbacks update the row in place (a heap-only
        # update, no index entries), with room left on each page for it (migration 0015).
        {**NEVER_REUSE_IDS, "postgresql_with": {"fillfactor": ATTEMPTS_FILLFACTOR}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    specialist_id: Mapped[int | None] = mapped_column(
        ForeignKey("specialists.id", ondelete="SET NULL"), nullable=True, index=True
    )
    team: Mapped[str] = mapped_column(String(64))
    batch: Mapped[int] = mapped_column(Integer)
    contact: Mapped[str] = mapped_column(String(255))
    rung_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    result: Mapped[str] = mapped_column(String(20))
    # The CallSid of the leg to the specialist, once Twilio tells it.
    leg_sid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Set on the attempts of a transfer: the target rung for it.
    transfer_id: Mapped[int | None] = mapped_column(
        ForeignKey("call_transfers.id", ondelete="CASCADE"), nullable=True
    )


TRANSFER_MODES = ("cold", "warm")
# ringing: the target is being rung; talking (warm): the first specialist talks with the
# target, the caller on hold; connected: the caller is with the target; returned: nobody
# took it and the caller went back to the first specialist (or the fallback); failed:
# Twilio refused a request (the caller stays where they were).
TRANSFER_STATES = ("ringing", "talking", "connected", "returned", "failed")


class CallTransfer(Base):
    """A transfer of a call to a team or a named specialist, over a Twilio conference."""

    __tablename__ = "call_transfers"
    __table_args__ = (
        CheckConstraint(_one_of("mode", TRANSFER_MODES), name="mode_known"),
        CheckConstraint(_one_of("status", TRANSFER_STATES), name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    mode: Mapped[str] = mapped_column(String(10))
    # Who handed the call over, and whom it goes to (a team, or one specialist).
    from_specialist_id: Mapped[int | None] = mapped_column(
        ForeignKey("specialists.id", ondelete="SET NULL"), nullable=True
    )
    from_leg_sid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    target_team: Mapped[str | None] = mapped_column(String(64), nullable=True)
    target_specialist_id: Mapped[int | None] = mapped_column(
        ForeignKey("specialists.id", ondelete="SET NULL"), nullable=True
    )
    status: Mapped[str] = mapped_column(String(12))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
