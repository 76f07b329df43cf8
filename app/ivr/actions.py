"""What the engine asks the driver to do: prompts to speak and exactly one action."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from app.ivr.schema import InputMode, Strategy

Tier = Literal["standard", "paid"]
CallerTier = Literal["standard", "paid", "unknown"]


@dataclass(frozen=True)
class Prompt:
    """Text for <Say>, in a language, with the voice and language code to use."""

    text: str
    language: str
    voice: str
    say_language: str


@dataclass(frozen=True)
class Play:
    """A recording for <Play>."""

    url: str


PromptItem = Prompt | Play


@dataclass(frozen=True)
class Gather:
    """Wait for caller input; the turn's prompts are spoken inside the <Gather>.

    `finish_on_key` None means no finish key (render finishOnKey=""); `num_digits` None
    means any number of digits.
    """

    input: InputMode
    num_digits: int | None
    finish_on_key: str | None
    timeout: int
    speech_language: str
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class LookupAccount:
    """Query: find accounts by caller ID or typed account number; answer with LookupResult."""

    by: Literal["caller_id", "account_number"]
    value: str


@dataclass(frozen=True)
class CheckHours:
    """Query: is this team, or one of its overflow teams, open now? Answer with HoursResult.

    Open means inside a coverage rule's hours, not on a public holiday of the team and
    not in a one-off closure.
    """

    team: str
    overflow: tuple[str, ...] = ()


@dataclass(frozen=True)
class OrderedTeam:
    """A team a route step tries, and why it is at that place in the order."""

    team: str
    why: str


@dataclass(frozen=True)
class RouteOrder:
    """Every team a route step tries for a call, in order, then the step it falls back to.

    A team is left for the next when nobody there can take the call or nobody answers
    `max_attempts` batches; a caller who holds in a team's queue (everyone who could take
    the call is busy) goes to `fallback` after `max_wait` without trying later teams.
    """

    step: str
    teams: tuple[OrderedTeam, ...]
    fallback: str
    skill: str | None
    strategy: Strategy
    batch_size: int
    max_attempts: int
    max_wait: int


@dataclass(frozen=True)
class Route:
    """Ring (or queue for) specialists of a team; answer later with RouteResult.

    `attempt` counts batches rung in this team (1-based); `hold` are queue announcements
    that may still contain {position} and {wait_minutes} (see fill_queue_placeholders);
    `announce` is the step's prompt, to be spoken before the first ring only.
    """

    team: str
    language: str
    skill: str | None
    tier: CallerTier
    strategy: Strategy
    batch_size: int
    ring_timeout: int
    max_attempts: int
    max_wait: int
    attempt: int = 1
    hold: tuple[PromptItem, ...] = ()
    # Offered while queued ("press 1 to be called back"); empty when the step has none.
    callback_offer: tuple[PromptItem, ...] = ()
    callback_key: str | None = None
    # The route step's own prompt ("please hold while we connect you"): the driver says it
    # only when it actually rings someone, so a caller with nobody to reach never hears it.
    announce: tuple[PromptItem, ...] = ()
    # The whole order of the step (for `switchboard simulate`); `team` is its current team.
    order: RouteOrder | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Record:
    """Record a voicemail; answer with RecordingDone."""

    max_length: int
    transcribe: bool


@dataclass(frozen=True)
class Transfer:
    """Connect the caller to an external number; answer with TransferResult."""

    number: str


@dataclass(frozen=True)
class Hangup:
    """End the call after the turn's prompts."""


Action = Gather | LookupAccount | CheckHours | Route | Record | Transfer | Hangup
Query = LookupAccount | CheckHours
# Actions after which the caller is connected, recorded or gone: the IVR part is over.
ENDING_ACTIONS = (Route, Record, Transfer, Hangup)


def is_query(action: Action) -> bool:
    """True for actions the driver answers at once, within the same webhook."""
    return isinstance(action, LookupAccount | CheckHours)


def fill_queue_placeholders(
    prompts: Iterable[PromptItem], position: int, wait_minutes: int
) -> tuple[PromptItem, ...]:
    """Fill {position} and {wait_minutes} in queue announcements."""
    filled: list[PromptItem] = []
    for prompt in prompts:
        if isinstance(prompt, Prompt):
            text = prompt.text.replace("{position}", str(position))
            prompt = replace(prompt, text=text.replace("{wait_minutes}", str(wait_minutes)))
        filled.append(prompt)
    return tuple(filled)
