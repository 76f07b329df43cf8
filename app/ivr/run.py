"""The scratch pad of one `advance` call: the evolving state and the prompts gathered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.ivr.actions import Action, CallerTier, Gather, Hangup, PromptItem, is_query
from app.ivr.opening import spoken_opening
from app.ivr.schema import Choice, Condition, Flow, InputMode, PromptSpec
from app.ivr.speech import render, spoken_number
from app.ivr.state import MAX_PATH, CallState, PathEntry


@dataclass(frozen=True)
class Goto:
    """Handler outcome: continue at another step (None: end the call)."""

    target: str | None


Outcome = Action | Goto


@dataclass(frozen=True)
class Turn:
    """The engine's answer: the new state, what to say or play, and one action.

    Prompts are empty for queries (LookupAccount, CheckHours): they wait in the state and
    come with the next action, so one TwiML response carries them all.
    """

    state: CallState
    prompts: tuple[PromptItem, ...]
    action: Action


class Run:
    """Mutable working copy of a call while the engine handles one event."""

    def __init__(self, flow: Flow, state: CallState, now: datetime | None) -> None:
        self.flow = flow
        self.prompts: list[PromptItem] = list(state.pending)
        self.state = state.evolved(pending=())
        self.at = now.isoformat() if now is not None else None

    def update(self, **changes: Any) -> None:
        """Change fields of the call state."""
        self.state = self.state.evolved(**changes)

    def log(self, heard: str | None = None) -> None:
        """Add a path entry for the current step (entered, or with an input/result)."""
        entry = PathEntry(self.state.step, heard, self.at)
        self.update(path=(*self.state.path, entry)[-MAX_PATH:])

    def values(self) -> dict[str, str]:
        """Placeholder values from the call state."""
        state = self.state
        account = state.account
        return {
            "opens_at": spoken_opening(None, None, state.language),
            **state.variables,
            "account_name": account.name if account else "",
            "account_id": account.id if account else "",
            "tier": self.tier(),
            "topic": state.topic or "",
            "language": state.language,
            "caller_number": spoken_number(state.caller_number),
            "callback_number": spoken_number(state.callback_number),
        }

    def tier(self) -> CallerTier:
        """The caller's tier: standard, paid, or unknown when not identified."""
        return self.state.account.tier if self.state.account else "unknown"

    def speak(self, prompt: PromptSpec) -> None:
        """Queue a flow prompt, in the call's language, for the next action."""
        self.prompts += render(self.flow, prompt, self.state.language, self.values())

    def render(self, prompt: PromptSpec) -> tuple[PromptItem, ...]:
        """A flow prompt rendered for the call, without queueing it."""
        return tuple(render(self.flow, prompt, self.state.language, self.values()))

    def gather(
        self,
        mode: InputMode,
        num_digits: int | None,
        finish_on_key: str | None,
        timeout: int,
        hints: tuple[str, ...] = (),
    ) -> Gather:
        """A Gather in the call's language; marks the step as waiting for input."""
        self.update(stage="gather")
        speech_language = self.flow.voice(self.state.language).say_language
        return Gather(mode, num_digits, finish_on_key, timeout, speech_language, hints)

    def end(self) -> Hangup:
        """Hang up after whatever is queued."""
        self.update(stage="ended")
        return Hangup()

    def holds(self, condition: Condition) -> bool:
        """Whether the call meets a condition."""
        state = self.state
        actual = ((condition.tier, self.tier()), (condition.language, state.language))
        return all(wanted is None or value in wanted for wanted, value in actual) and (
            condition.topic is None or (state.topic or "") in condition.topic
        )

    def choose(self, choice: Choice) -> str:
        """The value of the first case that holds, else the choice's `else`."""
        for case in choice.cases:
            if self.holds(case.when):
                return case.value
        return choice.otherwise

    def turn(self, action: Action) -> Turn:
        """The Turn for an action, keeping prompts in the state while the driver queries."""
        if is_query(action):
            return Turn(self.state.evolved(pending=tuple(self.prompts)), (), action)
        return Turn(self.state, tuple(self.prompts), action)
