"""API schemas for keys."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.types import JsonId

Role = Literal["admin", "scheduler", "specialist", "viewer"]


class ApiKeyCreate(BaseModel):
    """A request for a new key."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    role: Role
    specialist_id: JsonId | None = None

    @model_validator(mode="after")
    def _link(self) -> ApiKeyCreate:
        if self.role == "specialist" and self.specialist_id is None:
            raise ValueError("a specialist key needs specialist_id")
        if self.role != "specialist" and self.specialist_id is not None:
            raise ValueError("only a specialist key is linked to a specialist_id")
        return self


class ApiKeyOut(BaseModel):
    """A key as listed (never the secret)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: Role
    prefix: str
    specialist_id: int | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    """A new key, with its secret shown this once."""

    key: str
