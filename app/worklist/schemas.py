"""API schemas of the work list (`/v1/callbacks`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.calls.schemas import Voicemail
from app.core.types import JsonId

WorkKind = Literal["voicemail", "callback"]
WorkStatus = Literal["open", "claimed", "done"]
# Mirrors WORK_OUTCOMES in app/models/routing.py (a test keeps the two equal).
WorkOutcome = Literal["resolved", "no_answer", "left_message", "wrong_number", "duplicate", "other"]
NOTE_MAX = 2000


class SpecialistRef(BaseModel):
    """A specialist by id and name."""

    id: int
    name: str | None


class AccountRef(BaseModel):
    """The caller's account, as much as a callback needs."""

    id: int
    name: str
    tier: str


class WorkCall(BaseModel):
    """The call the item came from: whom to call back and what they said."""

    sid: str
    started_at: datetime
    # The full caller ID: the specialist needs it to call back.
    from_number: str
    topic: str | None
    voicemail: Voicemail | None


class DialState(BaseModel):
    """Where the last outbound callback of the item got to, and why it failed if it did."""

    status: str = Field(
        description="dialing, ringing_specialist, calling_customer, answered, no_answer, "
        "busy, failed or specialist_missed"
    )
    attempts: int
    last_at: datetime | None
    error: str | None


class WorkItemOut(BaseModel):
    """A voicemail or callback request on the work list."""

    id: int
    kind: WorkKind
    status: WorkStatus
    team: str | None
    language: str | None
    number: str | None = Field(description="the number to call back")
    account: AccountRef | None
    call: WorkCall | None
    claimed_by: SpecialistRef | None
    claimed_at: datetime | None
    completed_at: datetime | None
    outcome: WorkOutcome | None
    note: str | None
    dial: DialState | None = Field(default=None, description="outbound callbacks placed")
    created_at: datetime
    updated_at: datetime


class ClaimRequest(BaseModel):
    """Who claims: a specialist key claims for itself; admin and scheduler name someone."""

    model_config = ConfigDict(extra="forbid")

    specialist_id: JsonId | None = None


class CompleteRequest(BaseModel):
    """How the item ended, with an optional note (also added to the account's history)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: WorkOutcome
    note: str | None = Field(default=None, max_length=NOTE_MAX)

    @field_validator("note")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None


class DialRequest(BaseModel):
    """Who calls the customer back: a specialist key itself; admin and scheduler may name
    the specialist (default: the claimer)."""

    model_config = ConfigDict(extra="forbid")

    specialist_id: JsonId | None = None
