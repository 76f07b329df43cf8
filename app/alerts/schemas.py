"""API schemas of alert channels, rules and deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.types import JsonBool, JsonId, JsonInt

ChannelKind = Literal["slack", "email"]
RuleKind = Literal["new_work", "caller_waiting", "service_level", "coverage_gap", "ring_unanswered"]
DeliveryStatus = Literal["pending", "sending", "sent", "failed"]
# What `threshold` means per rule kind, and its bounds (None: the kind takes none).
THRESHOLDS: dict[str, tuple[str, int, int] | None] = {
    "new_work": None,
    "caller_waiting": ("seconds a caller has waited", 10, 3600),
    "service_level": ("target percent answered within 60 s over the last hour", 1, 100),
    "coverage_gap": ("days ahead to check", 1, 28),
    "ring_unanswered": None,
}


class ChannelIn(BaseModel):
    """A new channel: a Slack-compatible incoming webhook URL, or e-mail addresses."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    team: str = Field(min_length=1, max_length=64, description="the team's slug")
    name: str = Field(min_length=1, max_length=100)
    kind: ChannelKind
    target: str = Field(
        min_length=1,
        max_length=1000,
        description="slack: the incoming webhook URL; email: addresses, comma-separated",
    )
    active: JsonBool = True


class ChannelPatch(BaseModel):
    """Fields of a channel to change."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=100)
    target: str | None = Field(default=None, min_length=1, max_length=1000)
    active: JsonBool | None = None


class ChannelOut(BaseModel):
    """A channel of a team (the webhook URL is a secret: only its host is shown)."""

    id: int
    team: str
    name: str
    kind: ChannelKind
    target: str
    active: bool
    created_at: datetime
    updated_at: datetime


class RuleIn(BaseModel):
    """A new rule: what raises an alert for a team, and where it goes."""

    model_config = ConfigDict(extra="forbid")

    team: str = Field(min_length=1, max_length=64)
    kind: RuleKind
    threshold: JsonInt | None = Field(
        default=None,
        description="caller_waiting: seconds (10-3600); service_level: target percent "
        "(1-100); coverage_gap: days ahead (1-28); others: none",
    )
    channel_id: JsonId | None = Field(default=None, description="default: every team channel")
    active: JsonBool = True


class RulePatch(BaseModel):
    """Fields of a rule to change."""

    model_config = ConfigDict(extra="forbid")

    threshold: JsonInt | None = None
    channel_id: JsonId | None = None
    active: JsonBool | None = None


class RuleOut(BaseModel):
    """A rule of a team."""

    id: int
    team: str
    kind: RuleKind
    threshold: int | None
    channel_id: int | None
    active: bool
    created_at: datetime
    updated_at: datetime


class DeliveryOut(BaseModel):
    """One alert for one channel and how its delivery went."""

    id: int
    channel_id: int
    rule_id: int | None
    team: str
    kind: str
    event_key: str
    subject: str
    body: str
    link: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
