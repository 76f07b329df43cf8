"""Steps that wait for the caller: menu, language, identify, callback."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from app.ivr.actions import Gather, LookupAccount
from app.ivr.events import AccountInfo, Digits, Event, LookupResult, NoInput, Speech
from app.ivr.run import Goto, Outcome, Run
from app.ivr.schema import (
    ANY_LANGUAGE,
    CallbackStep,
    IdentifyStep,
    LanguageStep,
    MenuOption,
    MenuStep,
    frozen_map,
)
from app.ivr.speech import match_option, say

_ACCOUNT_NUMBER = re.compile(r"[0-9]{1,32}")
_PHONE_DIGITS = re.compile(r"[0-9]{6,15}")
_DIALABLE = re.compile(r"\+?[0-9]{6,15}")


@dataclass(frozen=True)
class Answer:
    """A caller's input to a menu: a key chosen, nothing, or something unmatched."""

    kind: Literal["key", "no_input", "invalid"]
    key: str
    heard: str


def read_answer(event: Event, options: Sequence[tuple[str, Sequence[str]]]) -> Answer | None:
    """Interpret caller input against options; None if the event is not caller input."""
    keys = [key for key, _ in options]
    if isinstance(event, NoInput):
        return Answer("no_input", "", "no input")
    if isinstance(event, Digits):
        digits = event.digits.strip()
        if len(digits) > 1 and digits.endswith("#"):
            digits = digits[:-1]
        if not digits:
            return Answer("no_input", "", "no input")
        return Answer("key" if digits in keys else "invalid", digits, digits)
    if isinstance(event, Speech):
        heard = f"said: {event.text.strip()}"
        if not event.text.strip():
            return Answer("no_input", "", "no input")
        key = match_option(event.text, options)
        return Answer("invalid", "", heard) if key is None else Answer("key", key, heard)
    return None


def _keywords(option: MenuOption, language: str) -> tuple[str, ...]:
    return option.keywords.get(language, ()) + option.keywords.get(ANY_LANGUAGE, ())


# menu ---------------------------------------------------------------------------------


def enter_menu(run: Run, step: MenuStep) -> Outcome:
    """Speak the menu and wait for a choice."""
    run.speak(step.prompt)
    return _menu_gather(run, step)


def _menu_gather(run: Run, step: MenuStep) -> Gather:
    hints = tuple(word for o in step.options for word in _keywords(o, run.state.language))
    return run.gather(step.input, 1, None, step.timeout, hints)


def on_menu(run: Run, step: MenuStep, event: Event) -> Outcome:
    """Follow the chosen option, or re-prompt / fall back on no or invalid input."""
    if run.state.stage != "gather":
        return enter_menu(run, step)
    language = run.state.language
    answer = read_answer(event, [(o.key, _keywords(o, language)) for o in step.options])
    if answer is None:
        return enter_menu(run, step)
    run.log(answer.heard)
    if answer.kind == "key":
        option = next(o for o in step.options if o.key == answer.key)
        variables = {k: v for k, v in option.variables.items() if k != "topic"}
        run.update(
            topic=option.variables.get("topic", run.state.topic),
            variables=frozen_map({**run.state.variables, **variables}),
        )
        return Goto(option.next)
    run.update(retries=run.state.retries + 1)
    if run.state.retries > step.retries:
        return Goto(step.no_input if answer.kind == "no_input" else step.invalid)
    run.speak(step.retry_prompt)
    return enter_menu(run, step)


# language -----------------------------------------------------------------------------


def enter_language(run: Run, step: LanguageStep) -> Outcome:
    """Speak the language choices, each in its own language, and wait."""
    run.speak(step.prompt)
    for option in step.options:
        if option.say:
            run.prompts.append(say(run.flow, option.say, option.language))
    hints = tuple(word for option in step.options for word in option.keywords)
    return run.gather(step.input, 1, None, step.timeout, hints)


def on_language(run: Run, step: LanguageStep, event: Event) -> Outcome:
    """Set the chosen language; after retries keep the current one."""
    if run.state.stage != "gather":
        return enter_language(run, step)
    answer = read_answer(event, [(o.key, o.keywords) for o in step.options])
    if answer is None:
        return enter_language(run, step)
    run.log(answer.heard)
    if answer.kind == "key":
        option = next(o for o in step.options if o.key == answer.key)
        if option.language in run.flow.languages:
            run.update(language=option.language)
        return Goto(step.next)
    run.update(retries=run.state.retries + 1)
    if run.state.retries > step.retries:
        target = step.no_input if answer.kind == "no_input" else step.invalid
        return Goto(target or step.next)
    run.speak(step.retry_prompt)
    return enter_language(run, step)


# identify -----------------------------------------------------------------------------


def enter_identify(run: Run, step: IdentifyStep) -> Outcome:
    """Look up the caller ID (or ask for the account number when there is none)."""
    if run.state.account is not None:
        return Goto(step.on_match or step.next)
    if _DIALABLE.fullmatch(run.state.caller_number):
        run.update(stage="lookup_caller")
        return LookupAccount("caller_id", run.state.caller_number)
    return _ask_account_number(run, step)


def _ask_account_number(run: Run, step: IdentifyStep) -> Gather:
    run.speak(step.prompt)
    return run.gather("digits", None, "#", step.timeout)


def on_identify(run: Run, step: IdentifyStep, event: Event) -> Outcome:
    """Greet a single match; otherwise ask, retry, then continue as unknown."""
    stage = run.state.stage
    caller_input = isinstance(event, Digits | Speech | NoInput)
    if stage == "lookup_caller":
        if isinstance(event, LookupResult):
            run.log(_found(event.accounts))
            if len(event.accounts) == 1:
                return _matched(run, step, event.accounts[0])
            return _ask_account_number(run, step)
        # Caller input here means the lookup's answer was lost: treat it as no match.
        return _ask_account_number(run, step) if caller_input else enter_identify(run, step)
    if stage == "gather":
        if isinstance(event, Digits):
            typed = event.digits.strip().rstrip("#")
            if _ACCOUNT_NUMBER.fullmatch(typed):
                run.log(typed)
                run.update(stage="lookup_number", account_number=typed)
                return LookupAccount("account_number", typed)
            run.log(typed or "no input")
            return _identify_retry(run, step)
        if caller_input:
            run.log("no input" if isinstance(event, NoInput) else "not digits")
            return _identify_retry(run, step)
        return _ask_account_number(run, step)
    if stage == "lookup_number":
        if isinstance(event, LookupResult):
            run.log(_found(event.accounts))
            if len(event.accounts) == 1:
                return _matched(run, step, event.accounts[0])
            return _identify_retry(run, step)
        if caller_input:
            return _identify_retry(run, step)
        return LookupAccount("account_number", run.state.account_number or "")
    return enter_identify(run, step)


def _found(accounts: Sequence[AccountInfo]) -> str:
    if len(accounts) == 1:
        return f"account {accounts[0].id}"
    return "no account found" if not accounts else f"{len(accounts)} accounts found"


def _matched(run: Run, step: IdentifyStep, account: AccountInfo) -> Goto:
    run.update(account=account)
    run.speak(step.greeting)
    return Goto(step.on_match or step.next)


def _identify_retry(run: Run, step: IdentifyStep) -> Outcome:
    run.update(retries=run.state.retries + 1)
    if run.state.retries > step.retries:
        run.speak(step.unknown_prompt)
        return Goto(step.on_unknown or step.next)
    run.speak(step.retry_prompt)
    return _ask_account_number(run, step)


# callback -----------------------------------------------------------------------------


def enter_callback(run: Run, step: CallbackStep) -> Outcome:
    """Ask for a number to call back (1 confirms the caller ID)."""
    run.speak(step.prompt)
    return run.gather("digits", None, "#", step.timeout)


def on_callback(run: Run, step: CallbackStep, event: Event) -> Outcome:
    """Take the confirmed or typed number; after retries go on without one."""
    if run.state.stage != "gather" or not isinstance(event, Digits | Speech | NoInput):
        return enter_callback(run, step)
    number: str | None = None
    if isinstance(event, Digits):
        typed = event.digits.strip().rstrip("#")
        run.log(typed or "no input")
        if typed == "1" and _DIALABLE.fullmatch(run.state.caller_number):
            number = run.state.caller_number
        elif _PHONE_DIGITS.fullmatch(typed):
            number = typed
    else:
        run.log("no input" if isinstance(event, NoInput) else "not digits")
    if number is not None:
        run.update(callback_number=number)
        run.speak(step.done_prompt)
        return Goto(step.next)
    run.update(retries=run.state.retries + 1)
    if run.state.retries > step.retries:
        return Goto(step.next)
    run.speak(step.retry_prompt)
    return enter_callback(run, step)
