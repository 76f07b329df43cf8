"""API schemas of call control: transfers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.types import JsonId


class TransferRequest(BaseModel):
    """Where the call goes: a team (routed by the usual rules) or a named specialist."""

    model_config = ConfigDict(extra="forbid")

    team: str | None = Field(default=None, min_length=1, max_length=64)
    specialist_id: JsonId | None = None
    mode: Literal["cold", "warm"] = Field(
        default="cold",
        description="cold: the caller goes straight to the target (hold music); warm: you "
        "talk with the target first, then complete the transfer",
    )

    @model_validator(mode="after")
    def _one_target(self) -> TransferRequest:
        if (self.team is None) == (self.specialist_id is None):
            raise ValueError("give exactly one of team and specialist_id")
        return self


class TransferAttemptOut(BaseModel):
    """One target rung for the transfer and how it ended."""

    specialist_id: int | None
    rung_at: datetime
    ended_at: datetime | None
    result: str


class TransferOut(BaseModel):
    """A transfer of a call and where it got to."""

    id: int
    call_sid: str
    mode: str
    status: str = Field(description="ringing, talking (warm), connected, returned or failed")
    from_specialist_id: int | None
    target_team: str | None
    target_specialist_id: int | None
    error: str | None
    attempts: list[TransferAttemptOut]
    created_at: datetime
    updated_at: datetime
