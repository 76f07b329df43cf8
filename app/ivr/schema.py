"""The loaded, immutable form of an IVR flow file (see docs/ivr-flows.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, TypeVar

InputMode = Literal["digits", "speech", "both"]
Strategy = Literal["longest_idle", "round_robin", "fixed_order"]

STEP_KINDS = (
    "say",
    "menu",
    "language",
    "identify",
    "hours",
    "route",
    "voicemail",
    "callback",
    "transfer",
    "hangup",
    "branch",
)
# Steps that never wait for the caller: a cycle made only of these would spin forever.
# `identify` is here because a caller-ID match (or an account already known) passes
# straight through it.
INPUT_FREE_KINDS = frozenset({"say", "branch", "hours", "identify"})
STRATEGIES: tuple[Strategy, ...] = ("longest_idle", "round_robin", "fixed_order")
INPUT_MODES: tuple[InputMode, ...] = ("digits", "speech", "both")
TIERS = ("standard", "paid", "unknown")

# Voices the TwiML <Say> schema knows, with the language each Polly voice speaks.
VOICE_LANGUAGES: Mapping[str, str | None] = MappingProxyType(
    {
        "Polly.Joanna": "en-US",
        "Polly.Matthew": "en-US",
        "Polly.Salli": "en-US",
        "Polly.Kimberly": "en-US",
        "Polly.Kendra": "en-US",
        "Polly.Joey": "en-US",
        "Polly.Justin": "en-US",
        "Polly.Ivy": "en-US",
        "Polly.Amy": "en-GB",
        "Polly.Brian": "en-GB",
        "Polly.Emma": "en-GB",
        "Polly.Mizuki": "ja-JP",
        "Polly.Takumi": "ja-JP",
        "Polly.Celine": "fr-FR",
        "Polly.Mathieu": "fr-FR",
        "Polly.Lea": "fr-FR",
        "Polly.Vicki": "de-DE",
        "Polly.Hans": "de-DE",
        "Polly.Marlene": "de-DE",
        "Polly.Mia": "es-MX",
        "Polly.Andres": "es-MX",
        "Polly.Lupe": "es-US",
        "Polly.Conchita": "es-ES",
        "Polly.Lucia": "es-ES",
        "alice": None,
        "man": None,
        "woman": None,
    }
)

# Placeholders the engine fills from the call state; variables set by menu options too.
STATE_PLACEHOLDERS = frozenset(
    {
        "account_name",
        "account_id",
        "tier",
        "topic",
        "language",
        "caller_number",
        "callback_number",
        "opens_at",
    }
)
# Filled by the queue (route `hold_prompt` only), left as-is by the engine.
QUEUE_PLACEHOLDERS = frozenset({"position", "wait_minutes"})

ANY_LANGUAGE = "*"  # key of a text or recording that is the same in every language


K = TypeVar("K")
V = TypeVar("V")


def frozen_map(items: Mapping[K, V]) -> Mapping[K, V]:
    """Return a read-only copy of a mapping."""
    return MappingProxyType(dict(items))


@dataclass(frozen=True)
class Voice:
    """How one flow language is spoken: a <Say> voice and language code."""

    voice: str
    say_language: str


@dataclass(frozen=True)
class Text:
    """Words to say, one text per language code (or ANY_LANGUAGE for all)."""

    texts: Mapping[str, str]


@dataclass(frozen=True)
class Audio:
    """A recording to play, one URL per language code (or ANY_LANGUAGE for all)."""

    urls: Mapping[str, str]


PromptPart = Text | Audio
PromptSpec = tuple[PromptPart, ...]  # played in order; empty means "say nothing"


@dataclass(frozen=True)
class Condition:
    """A test on the call; each given field must match one of its values."""

    tier: frozenset[str] | None = None
    language: frozenset[str] | None = None
    topic: frozenset[str] | None = None


@dataclass(frozen=True)
class Case:
    """One `when` entry: a condition and the value chosen when it holds."""

    when: Condition
    value: str


@dataclass(frozen=True)
class Choice:
    """Cases tried in order, then `otherwise` (a step name or a team template)."""

    cases: tuple[Case, ...]
    otherwise: str


@dataclass(frozen=True)
class MenuOption:
    """A menu key: where it leads and the variables it sets."""

    key: str
    next: str
    variables: Mapping[str, str] = field(default_factory=lambda: frozen_map({}))
    keywords: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: frozen_map({}))


@dataclass(frozen=True)
class LanguageOption:
    """A language-menu key: the language it sets and how it is announced."""

    key: str
    language: str
    say: str | None = None
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class SayStep:
    """Say or play a message, then go on."""

    prompt: PromptSpec
    next: str
    kind: Literal["say"] = "say"


@dataclass(frozen=True)
class MenuStep:
    """Ask the caller to choose by keypad and/or speech."""

    prompt: PromptSpec
    options: tuple[MenuOption, ...]
    no_input: str | None
    invalid: str | None
    input: InputMode = "digits"
    timeout: int = 5
    retries: int = 2
    retry_prompt: PromptSpec = ()
    kind: Literal["menu"] = "menu"


@dataclass(frozen=True)
class LanguageStep:
    """Ask the caller to choose the call's language."""

    options: tuple[LanguageOption, ...]
    next: str
    prompt: PromptSpec = ()
    no_input: str | None = None  # None: keep the current language and go to `next`
    invalid: str | None = None
    input: InputMode = "digits"
    timeout: int = 5
    retries: int = 2
    retry_prompt: PromptSpec = ()
    kind: Literal["language"] = "language"


@dataclass(frozen=True)
class IdentifyStep:
    """Find the caller's account by caller ID, else by a typed account number."""

    prompt: PromptSpec
    next: str
    retry_prompt: PromptSpec = ()
    greeting: PromptSpec = ()
    unknown_prompt: PromptSpec = ()
    retries: int = 1
    timeout: int = 10
    on_match: str | None = None
    on_unknown: str | None = None
    kind: Literal["identify"] = "identify"


@dataclass(frozen=True)
class HoursStep:
    """Branch on whether a team (or one of its overflow teams) is open now.

    Closed on a public holiday of the team goes to `holiday` when given, else `closed`;
    either way {opens_at} says when the line opens again.
    """

    team: Choice
    open: str
    closed: str
    holiday: str | None = None
    overflow: tuple[str, ...] = ()
    kind: Literal["hours"] = "hours"


@dataclass(frozen=True)
class RouteStep:
    """Ring the specialists of a team, overflowing to further teams."""

    team: Choice
    fallback: str
    overflow: tuple[str, ...] = ()
    skill: str | None = None  # None: the call's topic
    strategy: Strategy = "longest_idle"
    batch_size: int = 2
    ring_timeout: int = 20
    max_attempts: int = 3
    max_wait: int = 180
    prompt: PromptSpec = ()
    hold_prompt: PromptSpec = ()
    # While queued, the caller may press `callback_key` to leave the queue for this step.
    callback: str | None = None
    callback_prompt: PromptSpec = ()
    callback_key: str = "1"
    kind: Literal["route"] = "route"


@dataclass(frozen=True)
class VoicemailStep:
    """Record a message (transcribed by default)."""

    prompt: PromptSpec
    next: str
    max_length: int = 120
    transcribe: bool = True
    kind: Literal["voicemail"] = "voicemail"


@dataclass(frozen=True)
class CallbackStep:
    """Take a number to call the caller back on."""

    prompt: PromptSpec
    next: str
    retry_prompt: PromptSpec = ()
    done_prompt: PromptSpec = ()
    retries: int = 1
    timeout: int = 10
    kind: Literal["callback"] = "callback"


@dataclass(frozen=True)
class TransferStep:
    """Connect the caller to an external number."""

    number: str
    prompt: PromptSpec = ()
    fallback: str | None = None  # None: hang up when the far end does not answer
    kind: Literal["transfer"] = "transfer"


@dataclass(frozen=True)
class HangupStep:
    """Say goodbye and end the call."""

    prompt: PromptSpec = ()
    kind: Literal["hangup"] = "hangup"


@dataclass(frozen=True)
class BranchStep:
    """Jump on conditions on the caller's tier, language and topic."""

    choice: Choice
    kind: Literal["branch"] = "branch"


Step = (
    SayStep
    | MenuStep
    | LanguageStep
    | IdentifyStep
    | HoursStep
    | RouteStep
    | VoicemailStep
    | CallbackStep
    | TransferStep
    | HangupStep
    | BranchStep
)


@dataclass(frozen=True)
class Flow:
    """One IVR flow: its numbers, languages and steps."""

    name: str
    numbers: tuple[str, ...]
    default: bool
    languages: Mapping[str, Voice]
    default_language: str
    start: str
    steps: Mapping[str, Step]
    file: str = ""
    # YAML line of each dotted key path ("steps.menu.options.1"), for problem reports.
    lines: Mapping[str, int] = field(
        default_factory=lambda: frozen_map({}), compare=False, repr=False
    )

    def voice(self, language: str) -> Voice:
        """The voice for a language, falling back to the default language's voice."""
        found = self.languages.get(language) or self.languages.get(self.default_language)
        return found or Voice("Polly.Joanna", "en-US")


def jumps(step: Step) -> list[tuple[str, str]]:
    """Every (field path, target step) a step can jump to."""
    match step:
        case SayStep() | LanguageStep() | VoicemailStep() | CallbackStep():
            found = [("next", step.next)]
            if isinstance(step, LanguageStep):
                found += _optional(("no_input", step.no_input), ("invalid", step.invalid))
            return found
        case MenuStep():
            found = [(f"options.{o.key}", o.next) for o in step.options]
            return found + _optional(("no_input", step.no_input), ("invalid", step.invalid))
        case IdentifyStep():
            extra = _optional(("on_match", step.on_match), ("on_unknown", step.on_unknown))
            return [("next", step.next), *extra]
        case HoursStep():
            holiday = _optional(("holiday", step.holiday))
            return [("open", step.open), ("closed", step.closed), *holiday]
        case RouteStep():
            return [("fallback", step.fallback), *_optional(("callback", step.callback))]
        case TransferStep():
            return _optional(("fallback", step.fallback))
        case HangupStep():
            return []
        case BranchStep():
            cases = [(f"when.{i}.next", c.value) for i, c in enumerate(step.choice.cases)]
            return [*cases, ("else", step.choice.otherwise)]


def _optional(*pairs: tuple[str, str | None]) -> list[tuple[str, str]]:
    return [(path, target) for path, target in pairs if target is not None]


def prompts(step: Step) -> list[tuple[str, PromptSpec]]:
    """Every (field name, prompt) of a step that is spoken in the call's language."""
    names = (
        "prompt",
        "retry_prompt",
        "greeting",
        "unknown_prompt",
        "done_prompt",
        "hold_prompt",
        "callback_prompt",
    )
    found: list[tuple[str, PromptSpec]] = []
    for name in names:
        value = getattr(step, name, ())
        if value:
            found.append((name, value))
    return found
