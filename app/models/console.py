"""Console tables: dispositions, shift swap requests, team console settings, live events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime

SWAP_KINDS = ("offer", "ask")
SWAP_STATES = ("pending", "accepted", "approved", "declined", "rejected", "cancelled")
EVENT_KINDS = ("ring", "ring_ended", "answered", "queue", "presence", "availability")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Disposition(Base):
    """An outcome code a specialist puts on a call after it (the admin edits the list)."""

    __tablename__ = "dispositions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CallWrapUp(Base):
    """What the specialist recorded after a call: its disposition (one per call)."""

    __tablename__ = "call_wrap_ups"

    call_id: Mapped[int] = mapped_column(
        ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True
    )
    disposition: Mapped[str] = mapped_column(String(40), index=True)
    specialist_id: Mapped[int | None] = mapped_column(
        ForeignKey("specialists.id", ondelete="SET NULL"), nullable=True
    )
    author: Mapped[str] = mapped_column(String(200))
    note_id: Mapped[int | None] = mapped_column(
        ForeignKey("account_notes.id", ondelete="SET NULL"), nullable=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class SwapRequest(Base):
    """A specialist offers one of their shifts, or asks a teammate to take it."""

    __tablename__ = "swap_requests"
    __table_args__ = (
        CheckConstraint(_one_of("kind", SWAP_KINDS), name="kind_known"),
        CheckConstraint(_one_of("state", SWAP_STATES), name="state_known"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    # Whose shift it is, and who would take it (None: an offer to any teammate).
    requester_id: Mapped[int] = mapped_column(
        ForeignKey("specialists.id", ondelete="CASCADE"), index=True
    )
    teammate_id: Mapped[int | None] = mapped_column(
        ForeignKey("specialists.id", ondelete="CASCADE"), nullable=True, index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    accepted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("specialists.id", ondelete="SET NULL"), nullable=True
    )
    override_id: Mapped[int | None] = mapped_column(
        ForeignKey("overrides.id", ondelete="SET NULL"), nullable=True
    )
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy API
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TeamConsoleSettings(Base):
    """A team's console settings: swap approval and the wallboard's alert thresholds."""

    __tablename__ = "team_console_settings"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    swaps_need_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    wait_amber_seconds: Mapped[int] = mapped_column(Integer, default=60)
    wait_red_seconds: Mapped[int] = mapped_column(Integer, default=180)
    service_level_amber: Mapped[int] = mapped_column(Integer, default=80)  # percent
    service_level_red: Mapped[int] = mapped_column(Integer, default=60)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConsoleEvent(Base):
    """Something the live pages show: a ring, its end, a queue or presence change.

    Written in the transaction that made the change (one small insert), read by every app
    instance's event hub, which polls this table and pushes to its Server-Sent Events.
    """

    __tablename__ = "console_events"
    __table_args__ = (
        CheckConstraint(_one_of("kind", EVENT_KINDS), name="kind_known"),
        Index("ix_console_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(20))
    specialist_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    team: Mapped[str | None] = mapped_column(String(64), nullable=True)
    call_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
