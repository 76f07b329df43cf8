"""Shared helpers for the IVR tests: flows on disk, a checked driver, example flows."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from app.ivr import (
    AccountInfo,
    CallState,
    CheckHours,
    Event,
    Flow,
    HoursResult,
    Prompt,
    Turn,
    advance,
    check_flow_text,
    load_flows,
)
from app.ivr.actions import ENDING_ACTIONS, Action

REPO = Path(__file__).resolve().parents[2]
FLOWS_DIR = REPO / "ivr_flows"
TEAMS = {"paid-support", "support-en", "support-ja", "support-fr", "support-de", "support-es"}
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
CALLER = "+14155550100"
SUPPORT_LINE = "+18005550100"
OPEN = HoursResult(True, NOW)
ACME = AccountInfo("acc-1", "Acme Robotics", "standard", CALLER)
GLOBEX = AccountInfo("acc-2", "Globex", "paid", "+442071838750")


def support_flow() -> Flow:
    """The shipped support.yaml, loaded."""
    return load_flows(FLOWS_DIR, TEAMS)["support"]


def flow_from_text(text: str, known_teams: set[str] | None = None) -> Flow:
    """A flow from YAML text that must have no problems at all."""
    flow, problems = check_flow_text(text, "test.yaml", known_teams)
    assert problems == [], [str(p) for p in problems]
    assert flow is not None
    return flow


def line_with(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing `needle`."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} not found"
    return hits[occurrence - 1]


def roundtrip(state: CallState) -> CallState:
    """The state after storing it as JSON and reading it back (must be equal)."""
    again = CallState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again == state
    return again


class Call:
    """Drives the engine like the telephony layer would, checking every turn."""

    def __init__(self, flow: Flow, hours: HoursResult | None = None) -> None:
        self.flow = flow
        self.state: CallState | None = None
        self.turns: list[Turn] = []
        self.hours = hours  # answers hours checks as the driver would; None: the test does

    def send(self, event: Event) -> Turn:
        """Feed one event; state goes through JSON between turns."""
        turn = advance(self.flow, self.state, event)
        assert isinstance(turn, Turn)
        self.state = roundtrip(turn.state)
        self.turns.append(turn)
        if isinstance(turn.action, CheckHours) and self.hours is not None:
            assert turn.prompts == ()  # prompts wait for the answer
            return self.send(self.hours)
        return turn

    def feed(self, events: Iterable[Event]) -> Turn:
        """Feed several events; the last turn."""
        turn: Turn | None = None
        for event in events:
            turn = self.send(event)
        assert turn is not None
        return turn

    @property
    def step(self) -> str:
        """The current step."""
        assert self.state is not None
        return self.state.step


def texts(turn: Turn) -> list[str]:
    """The texts a turn says."""
    return [p.text for p in turn.prompts if isinstance(p, Prompt)]


def languages(turn: Turn) -> list[str]:
    """The language of each text a turn says."""
    return [p.language for p in turn.prompts if isinstance(p, Prompt)]


def is_ending(action: Action) -> bool:
    """The caller is connected, recorded, transferred or gone."""
    return isinstance(action, ENDING_ACTIONS)


EVERYTHING = """\
name: everything
numbers: ["+15550002222"]
languages:
  en: Polly.Joanna
  fr: {voice: Polly.Celine, say_language: fr-FR}
start: check_hours
steps:
  check_hours:
    kind: hours
    team: support-{language}
    open: main
    closed: closed
  closed:
    kind: say
    prompt:
      en: We are closed.
      fr: Nous sommes fermés.
    next: callback
  callback:
    kind: callback
    prompt:
      en: Press 1 to be called back on {caller_number}, or type another number and pound.
      fr: Tapez 1 pour être rappelé au {caller_number}, ou un autre numéro suivi de dièse.
    retry_prompt:
      en: That number did not work.
      fr: Ce numéro ne convient pas.
    done_prompt:
      en: We will call you back on {callback_number}.
      fr: Nous vous rappellerons au {callback_number}.
    next: bye
  main:
    kind: menu
    prompt:
      en: For French, press 1. For sales, press 2. For billing, press 3.
      fr: Pour changer de langue, appuyez sur 1. Ventes, 2. Facturation, 3.
    options:
      1: switch_language
      2:
        next: transfer
        set: {reason: sales}
      3:
        next: vip_check
        topic: billing
    fallback: bye
  switch_language:
    kind: language
    prompt:
      en: Choose a language.
      fr: Choisissez une langue.
    options:
      1: en
      2:
        language: fr
        say: Pour le français, tapez 2.
        keywords: [français, french]
    next: main
  transfer:
    kind: transfer
    number: "+15550003333"
    prompt:
      en: Transferring you to {reason}.
      fr: Nous vous transférons ({reason}).
    fallback: message
  vip_check:
    kind: branch
    when:
      - {tier: paid, next: transfer}
      - {language: fr, topic: billing, next: message}
    else: bye
  message:
    kind: voicemail
    prompt:
      - en: Leave a message after the tone.
        fr: Laissez un message après le bip.
      - play: https://example.com/beep.mp3
    max_length: 60
    transcribe: false
    next: bye
  bye:
    kind: hangup
    prompt:
      en: Goodbye.
      fr: Au revoir.
"""
