"""API schemas for accounts, notes and history."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Tier = Literal["standard", "paid"]
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


def _check_language(value: str | None) -> str | None:
    if value is None:
        return None
    if not LANGUAGE_RE.match(value):
        raise ValueError("must be a language code such as en, ja, fr, de or pt-BR")
    return value


class AccountFields(BaseModel):
    """Fields shared by create and bulk rows."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    tier: Tier = "standard"
    preferred_language: str | None = Field(default=None, max_length=10)
    phones: list[str] = Field(default_factory=list, max_length=20)

    _lang = field_validator("preferred_language")(_check_language)


class AccountCreate(AccountFields):
    """A new account; `number` is generated when not given."""

    external_ref: str | None = Field(default=None, min_length=1, max_length=200)
    number: str | None = Field(default=None, pattern=r"^[1-9][0-9]{3,11}$")


class AccountUpdate(BaseModel):
    """A partial update; only the fields present change."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    tier: Tier | None = None
    preferred_language: str | None = Field(default=None, max_length=10)
    phones: list[str] | None = Field(default=None, max_length=20)
    external_ref: str | None = Field(default=None, min_length=1, max_length=200)

    _lang = field_validator("preferred_language")(_check_language)


class AccountOut(BaseModel):
    """An account as the API shows it."""

    id: int
    number: str
    name: str
    tier: Tier
    preferred_language: str | None
    external_ref: str | None
    phones: list[str]
    created_at: datetime
    updated_at: datetime


class BulkRow(AccountFields):
    """One row of a bulk upsert, keyed by the CRM's reference."""

    external_ref: str = Field(min_length=1, max_length=200)


class BulkUpsert(BaseModel):
    """Rows to create or update by external reference, all or nothing."""

    model_config = ConfigDict(extra="forbid")

    accounts: list[dict[str, Any]] = Field(max_length=5000)


class BulkResult(BaseModel):
    """What a bulk upsert did."""

    created: int
    updated: int
    unchanged: int
    accounts: list[AccountOut]


class NoteCreate(BaseModel):
    """A note to add to an account."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    body: str = Field(min_length=1, max_length=10_000)


class NoteOut(BaseModel):
    """A note on an account."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: int
    author: str
    body: str
    created_at: datetime


class HandledBy(BaseModel):
    """The specialist who answered a call."""

    specialist_id: int
    name: str | None


class HistoryVoicemail(BaseModel):
    """A message the caller left."""

    url: str
    duration: int | None
    transcription: str | None


class ClaimedBy(BaseModel):
    """The specialist who claimed a work item."""

    id: int
    name: str | None


class HistoryWorkItem(BaseModel):
    """A voicemail or callback request the call put on the work list, and how it stands."""

    id: int
    kind: str
    status: str
    outcome: str | None
    claimed_by: ClaimedBy | None
    completed_at: datetime | None


class HistoryCall(BaseModel):
    """A call as the account's history shows it."""

    sid: str
    started_at: datetime
    outcome: str | None
    status: str
    handled_by: HandledBy | None
    answered_at: datetime | None
    ended_at: datetime | None
    duration: int | None = Field(description="the whole call in seconds, as Twilio reports it")
    wait_seconds: int | None = Field(
        description="from routing to the answer (or to the end when nobody answered); "
        "null when the call never reached a specialist queue"
    )
    talk_seconds: int | None = Field(description="from the answer to the end")
    voicemail: HistoryVoicemail | None
    callback_number: str | None
    language: str | None
    topic: str | None
    team: str | None
    work_items: list[HistoryWorkItem]
    disposition: str | None = None


class HistoryEntry(BaseModel):
    """One item of an account's history: a note or a call."""

    kind: Literal["note", "call"]
    at: datetime
    note: NoteOut | None = None
    call: HistoryCall | None = None


class AccountHistory(BaseModel):
    """An account with its calls and notes, newest first."""

    account: AccountOut
    entries: list[HistoryEntry]
    next_cursor: str | None = None
