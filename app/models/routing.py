"""Routing state shared by every app instance: who is reserved or busy, who is waiting.

`specialist_presence` is the reservation table. A specialist is free when their row says
`free`, or when the lease in `held_until` has run out: a reservation whose leg never
reported back (an app instance crashed, Twilio's callback was lost) ends by itself.
`call_queue` holds callers waiting for a busy team, ordered by priority then arrival.
`work_items` are the voicemails and callback requests that specialists claim and close.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import NEVER_REUSE_IDS, Base, UTCDateTime, set_only_index

PRESENCE_STATES = ("free", "ringing", "busy")
AVAILABILITIES = ("available", "away", "offline")
QUEUE_STATES = ("waiting", "ringing", "left")
# How a caller left the queue: connected to a specialist, waited the step's max_wait,
# pressed the key for a callback, or hung up.
QUEUE_RESULTS = ("connected", "timeout", "callback", "abandoned", "moved_on")
WORK_KINDS = ("voicemail", "callback")
WORK_STATES = ("open", "claimed", "done")
# Where the last outbound callback of an item got to (None: never dialled).
DIAL_STATES = (
    "dialing",
    "ringing_specialist",
    "calling_customer",
    "answered",
    "no_answer",
    "busy",
    "failed",
    "specialist_missed",
)
WORK_OUTCOMES = ("resolved", "no_answer", "left_message", "wrong_number", "duplicate", "other")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class SpecialistPresence(Base):
    """Whether a specialist is free, being rung for a call, or on a call."""

    __tablename__ = "specialist_presence"
    __table_args__ = (
        CheckConstraint(_one_of("state", PRESENCE_STATES), name="state_known"),
        CheckConstraint(_one_of("availability", AVAILABILITIES), name="availability_known"),
        # A free specialist's call_id is NULL: only those on or rung for a call are indexed
        # (migration 0015), so freeing one writes no entry to this index.
        set_only_index("specialist_presence", "call_id"),
    )

    specialist_id: Mapped[int] = mapped_column(
        ForeignKey("specialists.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(10), default="free")
    call_id: Mapped[int | None] = mapped_column(
        ForeignKey("calls.id", ondelete="SET NULL"), nullable=True
    )
    attempt_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The reservation ends by itself at this instant (crash safety).
    held_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When their last conversation ended (longest idle first); None: no call yet.
    idle_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # What the person said: available (may be rung), away or offline (not rung). Apart
    # from `state`, which is what calls did; no row at all means available.
    # A server default only: reservations insert rows with INSERT ... SELECT (presence.py).
    availability: Mapped[str] = mapped_column(String(10), server_default=text("'available'"))
    availability_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class QueueEntry(Base):
    """A caller waiting for a team whose specialists are all busy."""

    __tablename__ = "call_queue"
    __table_args__ = (
        CheckConstraint(_one_of("state", QUEUE_STATES), name="state_known"),
        CheckConstraint(
            f"result IS NULL OR {_one_of('result', QUEUE_RESULTS)}", name="result_known"
        ),
        Index("ix_call_queue_waiting", "state", "team", "priority", "enqueued_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), unique=True)
    team: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(10))
    skill: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Higher goes first (paid 1, everyone else 0); then arrival.
    priority: Mapped[int] = mapped_column(Integer)
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(10))
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    result: Mapped[str | None] = mapped_column(String(20), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WorkItem(Base):
    """A voicemail or callback request on the work list."""

    __tablename__ = "work_items"
    __table_args__ = (
        UniqueConstraint("call_id", "kind"),
        CheckConstraint(_one_of("kind", WORK_KINDS), name="kind_known"),
        CheckConstraint(_one_of("status", WORK_STATES), name="status_known"),
        CheckConstraint(
            f"outcome IS NULL OR {_one_of('outcome', WORK_OUTCOMES)}", name="outcome_known"
        ),
        CheckConstraint(
            f"dial_status IS NULL OR {_one_of('dial_status', DIAL_STATES)}",
            name="dial_status_known",
        ),
        Index("ix_work_items_open", "status", "team", "language", "created_at"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True, index=True
    )
    team: Mapped[str | None] = mapped_column(String(64), nullable=True)
    language: Mapped[str | None] = mapped_column(String(10), nullable=True)
    # The number to call back (the one the caller typed, else their caller ID).
    number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="open")
    claimed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("specialists.id", ondelete="SET NULL"), nullable=True, index=True
    )
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Outbound callbacks: the last dial's state, how many were placed, and why one failed.
    dial_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    dial_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_dial_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_dial_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy API
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
