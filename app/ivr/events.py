"""What happens to a call, fed to the engine: caller input and answers to its requests.

`now` is the instant of the event as the driver saw it; the engine never reads a clock
and only copies it into the call's path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from app.ivr.actions import Tier


@dataclass(frozen=True)
class AccountInfo:
    """The account a caller was identified as."""

    id: str
    name: str
    tier: Tier
    number: str | None = None


@dataclass(frozen=True)
class Start:
    """A new call (the first voice webhook); restarts the flow if sent again."""

    from_number: str
    to_number: str
    now: datetime | None = None


@dataclass(frozen=True)
class Digits:
    """Keys the caller pressed (Gather `Digits`, finish key excluded or not)."""

    digits: str
    now: datetime | None = None


@dataclass(frozen=True)
class Speech:
    """What the caller said (Gather `SpeechResult`, `Confidence`)."""

    text: str
    confidence: float = 1.0
    now: datetime | None = None


@dataclass(frozen=True)
class NoInput:
    """The Gather timed out without input."""

    now: datetime | None = None


@dataclass(frozen=True)
class LookupResult:
    """Answer to LookupAccount: every matching account (empty when none)."""

    accounts: Sequence[AccountInfo]
    now: datetime | None = None


@dataclass(frozen=True)
class HoursResult:
    """Answer to CheckHours.

    When closed: `holiday` when today is a public holiday of the team, `opens_at` the next
    opening (aware, in the team's time zone; None when unknown), `messages` what a one-off
    closure asks callers to hear, by language.
    """

    open: bool
    now: datetime | None = None
    holiday: bool = False
    opens_at: datetime | None = None
    messages: Mapping[str, str] = field(default_factory=dict)


RouteOutcome = Literal[
    "answered",
    "no_answer",
    "busy",
    "failed",
    "nobody_available",
    "queue_timeout",
    "callback_requested",
]
ROUTE_OUTCOMES: tuple[RouteOutcome, ...] = (
    "answered",
    "no_answer",
    "busy",
    "failed",
    "nobody_available",
    "queue_timeout",
    "callback_requested",
)


@dataclass(frozen=True)
class RouteResult:
    """How a Route ended: answered (by whom), a batch not answering, or no one to ring."""

    outcome: RouteOutcome
    specialist_id: str | None = None
    now: datetime | None = None


@dataclass(frozen=True)
class RecordingDone:
    """The voicemail Record finished."""

    url: str
    duration: int
    now: datetime | None = None


@dataclass(frozen=True)
class TransferResult:
    """How a Transfer's <Dial> ended."""

    answered: bool
    now: datetime | None = None


Event = (
    Start
    | Digits
    | Speech
    | NoInput
    | LookupResult
    | HoursResult
    | RouteResult
    | RecordingDone
    | TransferResult
)
CallerInput = Digits | Speech | NoInput
