"""API schemas of `/v1/closures`."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator

from app.rota.schemas import LANG_RE, SLUG_RE, Strict

MAX_CLOSURE_DAYS = 366


class ClosureIn(Strict):
    """A one-off closure: a team (or every team when `team` is null) takes no calls."""

    team: str | None = Field(default=None, description="team slug; null closes every team")
    reason: str = Field(min_length=1, max_length=200, description="for people, e.g. 'Team day'")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    messages: dict[str, str] = Field(
        default_factory=dict,
        description="what callers hear first, by language code, e.g. {'en': '...', 'es': '...'}",
    )

    @field_validator("team")
    @classmethod
    def _team(cls, value: str | None) -> str | None:
        if value is not None and not SLUG_RE.match(value):
            raise ValueError("must be a team slug such as support-en, or null for every team")
        return value

    @field_validator("messages")
    @classmethod
    def _messages(cls, value: dict[str, str]) -> dict[str, str]:
        for code, text in value.items():
            if not LANG_RE.match(code):
                raise ValueError(f"{code!r} is not a language code such as en, ja, fr, de, es")
            if not text.strip() or len(text) > 500:
                raise ValueError(f"the {code!r} message must have 1 to 500 characters")
        return {code: text.strip() for code, text in value.items()}

    @model_validator(mode="after")
    def _window(self) -> ClosureIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if (self.ends_at - self.starts_at).days > MAX_CLOSURE_DAYS:
            raise ValueError(f"a closure lasts at most {MAX_CLOSURE_DAYS} days")
        return self


class ClosureOut(BaseModel):
    """A closure."""

    id: int
    team: str | None
    reason: str
    starts_at: datetime
    ends_at: datetime
    messages: dict[str, str]
    created_at: datetime
    updated_at: datetime


class ClosurePreview(BaseModel):
    """What a dry run would do (nothing was saved)."""

    dry_run: Literal[True] = True
    action: Literal["create", "replace", "delete"]
    before: ClosureOut | None
    after: ClosureOut | None
    teams: list[str] = Field(description="the teams whose callers would hear the closure")
