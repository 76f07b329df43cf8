"""Every step kind, prompts across languages, and events arriving when they should not."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import pytest

from app.ivr import (
    AccountInfo,
    CallState,
    CheckHours,
    Digits,
    Gather,
    Hangup,
    HoursResult,
    LookupAccount,
    LookupResult,
    NoInput,
    Play,
    Prompt,
    Record,
    RecordingDone,
    Route,
    RouteResult,
    Speech,
    Start,
    Transfer,
    TransferResult,
    advance,
    check_flow_text,
    fill_queue_placeholders,
)
from app.ivr.schema import Flow, SayStep, Text, Voice

from .flowkit import (
    ACME,
    CALLER,
    EVERYTHING,
    GLOBEX,
    NOW,
    OPEN,
    SUPPORT_LINE,
    Call,
    flow_from_text,
    languages,
    support_flow,
    texts,
)

TEAMS = {"support-en", "support-fr"}


def everything() -> Call:
    """A call on the flow that uses every step kind, at its hours check."""
    call = Call(flow_from_text(EVERYTHING, TEAMS))
    turn = call.send(Start(CALLER, "+15550002222", NOW))
    assert turn.action == CheckHours("support-en")
    assert turn.prompts == ()
    return call


def at_main_menu() -> Call:
    """A call on the flow that uses every step kind, at its main menu."""
    call = everything()
    turn = call.send(HoursResult(True, NOW))
    assert texts(turn) == ["For French, press 1. For sales, press 2. For billing, press 3."]
    return call


def test_closed_hours_say_then_callback_in_one_turn() -> None:
    call = everything()
    turn = call.send(HoursResult(False, NOW))
    assert texts(turn) == [
        "We are closed.",
        "Press 1 to be called back on 1 4 1 5 5 5 5 0 1 0 0, or type another number and pound.",
    ]
    assert turn.action == Gather("digits", None, "#", 10, "en-US", ())


def test_callback_confirms_the_caller_id() -> None:
    call = everything()
    call.send(HoursResult(False, NOW))
    turn = call.send(Digits("1", NOW))
    assert turn.state.callback_number == CALLER
    assert texts(turn) == ["We will call you back on 1 4 1 5 5 5 5 0 1 0 0.", "Goodbye."]
    assert turn.action == Hangup()


def test_callback_takes_a_typed_number_after_a_bad_one() -> None:
    call = everything()
    call.send(HoursResult(False, NOW))
    turn = call.send(Digits("12#", NOW))
    assert texts(turn)[0] == "That number did not work."
    assert isinstance(turn.action, Gather)
    turn = call.send(Digits("4930123456#", NOW))
    assert turn.state.callback_number == "4930123456"
    assert turn.action == Hangup()


def test_callback_gives_up_without_a_number() -> None:
    call = everything()
    call.send(HoursResult(False, NOW))
    call.send(NoInput(NOW))
    turn = call.send(Speech("call me", 0.9, NOW))
    assert turn.state.callback_number is None
    assert texts(turn) == ["Goodbye."]


def test_callback_1_needs_a_usable_caller_id() -> None:
    call = Call(flow_from_text(EVERYTHING, TEAMS))
    call.send(Start("anonymous", "+15550002222", NOW))
    call.send(HoursResult(False, NOW))
    turn = call.send(Digits("1", NOW))
    assert turn.state.callback_number is None
    assert isinstance(turn.action, Gather)


def test_language_switch_mid_call_changes_later_prompts() -> None:
    call = at_main_menu()
    turn = call.send(Digits("1", NOW))
    assert texts(turn) == ["Choose a language.", "Pour le français, tapez 2."]
    assert languages(turn) == ["en", "fr"]
    assert [p.voice for p in turn.prompts if isinstance(p, Prompt)] == [
        "Polly.Joanna",
        "Polly.Celine",
    ]
    turn = call.send(Digits("2", NOW))
    assert turn.state.language == "fr"
    assert texts(turn) == ["Pour changer de langue, appuyez sur 1. Ventes, 2. Facturation, 3."]
    assert turn.prompts[0] == Prompt(texts(turn)[0], "fr", "Polly.Celine", "fr-FR")
    assert isinstance(turn.action, Gather)
    assert turn.action.speech_language == "fr-FR"
    turn = call.send(Digits("2", NOW))
    assert texts(turn) == ["Nous vous transférons (sales)."]


def test_language_chosen_by_speech_keyword() -> None:
    call = at_main_menu()
    call.send(Digits("1", NOW))
    turn = call.send(Speech("Français", 0.7, NOW))
    assert turn.state.language == "fr"


def test_transfer_answered_ends_the_call() -> None:
    call = at_main_menu()
    turn = call.send(Digits("2", NOW))
    assert texts(turn) == ["Transferring you to sales."]
    assert turn.action == Transfer("+15550003333")
    assert turn.state.variables == {"reason": "sales"}
    turn = call.send(TransferResult(True, NOW))
    assert turn.action == Hangup()
    assert turn.prompts == ()


def test_transfer_not_answered_goes_to_voicemail_with_play() -> None:
    call = at_main_menu()
    call.send(Digits("2", NOW))
    turn = call.send(TransferResult(False, NOW))
    assert turn.prompts == (
        Prompt("Leave a message after the tone.", "en", "Polly.Joanna", "en-US"),
        Play("https://example.com/beep.mp3"),
    )
    assert turn.action == Record(60, False)


@pytest.mark.parametrize(
    ("account", "french", "expected"),
    [
        (None, False, Hangup()),  # unknown tier, English: else -> bye
        (GLOBEX, False, Transfer("+15550003333")),  # paid -> transfer
        (ACME, True, Record(60, False)),  # French and billing -> message
    ],
)
def test_branch_conditions_on_tier_language_and_topic(
    account: AccountInfo | None, french: bool, expected: object
) -> None:
    call = at_main_menu()
    assert call.state is not None
    call.state = CallState.from_dict(
        {
            **call.state.to_dict(),
            "account": None if account is None else {**account.__dict__},
            "language": "fr" if french else "en",
        }
    )
    turn = call.send(Digits("3", NOW))
    assert turn.state.topic == "billing"
    assert turn.action == expected


def test_a_say_before_a_query_is_kept_for_the_next_response() -> None:
    flow = flow_from_text(
        """\
name: pending
default: true
languages: {en: Polly.Joanna}
start: hello
steps:
  hello: {kind: say, prompt: Hello., next: hours}
  hours: {kind: hours, team: desk, open: menu, closed: menu}
  menu:
    kind: menu
    prompt: Press 1.
    options: {1: menu}
    fallback: menu
"""
    )
    call = Call(flow)
    turn = call.send(Start(CALLER, SUPPORT_LINE, NOW))
    assert turn.action == CheckHours("desk")
    assert turn.prompts == ()
    assert turn.state.pending == (Prompt("Hello.", "en", "Polly.Joanna", "en-US"),)
    turn = call.send(HoursResult(True, NOW))
    assert texts(turn) == ["Hello.", "Press 1."]
    assert turn.state.pending == ()


def test_missing_translation_falls_back_to_default_language_then_english() -> None:
    text = """\
name: partial
default: true
languages:
  en: Polly.Joanna
  fr: Polly.Celine
  ja: Polly.Mizuki
  de: Polly.Vicki
default_language: fr
start: menu
steps:
  menu:
    kind: language
    options: {1: en, 2: fr, 3: ja, 4: de}
    next: hello
  hello:
    kind: say
    prompt:
      - {en: Hello., fr: Bonjour.}
      - {en: Only English.}
    next: bye
  bye: {kind: hangup}
"""
    flow, problems = check_flow_text(text, "partial.yaml")
    assert flow is not None
    assert {p.severity for p in problems} == {"warning"}
    call = Call(flow)
    call.send(Start(CALLER, SUPPORT_LINE, NOW))
    turn = call.send(Digits("3", NOW))  # Japanese
    assert turn.prompts == (
        Prompt("Bonjour.", "fr", "Polly.Celine", "fr-FR"),
        Prompt("Only English.", "en", "Polly.Joanna", "en-US"),
    )


def test_hold_prompts_keep_queue_placeholders_for_the_driver() -> None:
    call = Call(support_flow(), OPEN)
    call.feed([Start(CALLER, SUPPORT_LINE, NOW), Digits("3", NOW), LookupResult([ACME], NOW)])
    turn = call.send(Digits("1", NOW))
    assert isinstance(turn.action, Route)
    filled = fill_queue_placeholders(turn.action.hold, position=3, wait_minutes=2)
    assert filled == (
        Prompt(
            "Tous nos conseillers sont occupés. Vous êtes en position 3 dans la file d'attente.",
            "fr",
            "Polly.Celine",
            "fr-FR",
        ),
    )
    assert fill_queue_placeholders([Play("https://x/y.mp3")], 1, 1) == (Play("https://x/y.mp3"),)


# events that arrive at the wrong time -------------------------------------------------


def test_query_result_during_a_menu_reprompts_without_a_retry() -> None:
    call = at_main_menu()
    before = call.turns[-1]
    turn = call.send(LookupResult([ACME], NOW))
    assert (turn.prompts, turn.action) == (before.prompts, before.action)
    assert turn.state.retries == 0
    assert turn.state.account is None


def test_caller_input_while_waiting_for_hours_takes_the_closed_branch() -> None:
    call = everything()
    turn = call.send(Digits("5", NOW))
    assert call.step == "callback"
    assert texts(turn)[0] == "We are closed."


def test_other_events_while_waiting_for_hours_ask_again() -> None:
    call = everything()
    turn = call.send(RouteResult("answered", None, NOW))
    assert turn.action == CheckHours("support-en")


def test_events_while_ringing_reissue_the_route() -> None:
    call = Call(support_flow(), OPEN)
    call.feed([Start(CALLER, SUPPORT_LINE, NOW), Digits("1", NOW), LookupResult([ACME], NOW)])
    ringing = call.send(Digits("1", NOW))
    assert isinstance(ringing.action, Route) and ringing.action.announce
    for event in (HoursResult(True, NOW), Digits("5", NOW), NoInput(NOW)):
        turn = call.send(event)
        # The same route again, without a second "please hold".
        assert turn.action == replace(ringing.action, announce=())
        assert turn.prompts == ()


def test_events_while_looking_up_the_caller() -> None:
    call = Call(support_flow(), OPEN)
    call.feed([Start(CALLER, SUPPORT_LINE, NOW), Digits("1", NOW)])
    turn = call.send(RouteResult("busy", None, NOW))
    assert turn.action == LookupAccount("caller_id", CALLER)
    turn = call.send(Digits("42", NOW))  # the lookup answer was lost: ask the caller
    assert isinstance(turn.action, Gather)
    assert turn.state.retries == 0


def test_events_while_looking_up_an_account_number() -> None:
    call = Call(support_flow(), OPEN)
    call.feed([Start(CALLER, SUPPORT_LINE, NOW), Digits("1", NOW), LookupResult([], NOW)])
    call.send(Digits("77#", NOW))
    turn = call.send(HoursResult(True, NOW))
    assert turn.action == LookupAccount("account_number", "77")
    turn = call.send(NoInput(NOW))
    assert isinstance(turn.action, Gather)
    assert turn.state.retries == 1


def test_identify_rejects_non_digits() -> None:
    call = Call(support_flow(), OPEN)
    call.feed([Start(CALLER, SUPPORT_LINE, NOW), Digits("1", NOW), LookupResult([], NOW)])
    turn = call.send(Digits("12*4", NOW))
    assert turn.state.retries == 1
    assert isinstance(turn.action, Gather)


def test_recording_done_outside_voicemail_reprompts() -> None:
    call = at_main_menu()
    turn = call.send(RecordingDone("https://x/r", 3, NOW))
    assert isinstance(turn.action, Gather)
    assert call.step == "main"


def test_voicemail_reprompts_on_unexpected_events() -> None:
    call = at_main_menu()
    call.send(Digits("2", NOW))
    call.send(TransferResult(False, NOW))
    turn = call.send(Digits("1", NOW))
    assert turn.action == Record(60, False)


def test_transfer_reissued_on_unexpected_events() -> None:
    call = at_main_menu()
    call.send(Digits("2", NOW))
    turn = call.send(NoInput(NOW))
    assert turn.action == Transfer("+15550003333")


def test_everything_after_hangup_is_hangup() -> None:
    call = at_main_menu()
    call.send(Digits("3", NOW))  # else -> bye
    for event in (Digits("1", NOW), NoInput(NOW), RouteResult("answered", "x", NOW)):
        turn = call.send(event)
        assert (turn.prompts, turn.action) == ((), Hangup())


def test_start_again_restarts_the_call() -> None:
    call = at_main_menu()
    turn = call.send(Start("+4930123456", "+15550002222", NOW))
    assert turn.action == CheckHours("support-en")
    assert turn.state.caller_number == "+4930123456"
    assert len(turn.state.path) == 1


def test_no_state_and_no_start_still_starts_the_flow() -> None:
    turn = advance(support_flow(), None, Digits("1", NOW))
    assert isinstance(turn.action, Gather)
    assert turn.state.step == "choose_language"
    assert turn.state.caller_number == ""


def test_a_state_from_an_edited_flow_starts_over() -> None:
    call = at_main_menu()
    assert call.state is not None
    stale = CallState.from_dict({**call.state.to_dict(), "step": "removed_step"})
    turn = advance(call.flow, stale, Digits("1", NOW))
    assert turn.action == CheckHours("support-en")


def test_a_state_of_another_flow_starts_over() -> None:
    call = at_main_menu()
    assert call.state is not None
    other = CallState.from_dict({**call.state.to_dict(), "flow": "support"})
    turn = advance(call.flow, other, Digits("1", NOW))
    assert turn.action == CheckHours("support-en")


def test_a_state_resting_on_a_say_step_moves_on() -> None:
    call = at_main_menu()
    assert call.state is not None
    odd = CallState.from_dict({**call.state.to_dict(), "step": "closed", "stage": "gather"})
    turn = advance(call.flow, odd, NoInput(NOW))
    assert texts(turn)[0] == "We are closed."
    assert turn.state.step == "callback"


def test_an_input_free_loop_in_an_unchecked_flow_hangs_up() -> None:
    spin = SayStep((Text(MappingProxyType({"*": "Hold on."})),), "spin")
    flow = Flow(
        name="broken",
        numbers=(),
        default=True,
        languages=MappingProxyType({"en": Voice("Polly.Joanna", "en-US")}),
        default_language="en",
        start="spin",
        steps=MappingProxyType({"spin": spin}),
    )
    turn = advance(flow, None, Start(CALLER, SUPPORT_LINE, NOW))
    assert turn.action == Hangup()
    assert len(turn.prompts) > 10


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"flow": "x", "step": "y", "language": 3},
        "not a dict",
    ],
)
def test_malformed_stored_state_is_a_value_error(data: object) -> None:
    with pytest.raises(ValueError):
        CallState.from_dict(data)  # type: ignore[arg-type]


def test_state_round_trip_with_every_field() -> None:
    call = at_main_menu()
    call.send(Digits("2", NOW))
    assert call.state is not None
    state = CallState.from_dict(
        {
            **call.state.to_dict(),
            "account": {**GLOBEX.__dict__},
            "account_number": "123",
            "topic": "billing",
            "callback_number": "4930123456",
            "route": {"teams": ["a", "b"], "index": 1, "attempts": 2},
            "pending": [
                {"play": "https://x/y"},
                {"text": "Hi", "language": "en", "voice": "Polly.Joanna", "say_language": "en-US"},
            ],
        }
    )
    assert CallState.from_dict(state.to_dict()) == state
    assert state.account == GLOBEX


def test_an_evolved_state_is_the_copy_dataclasses_replace_makes() -> None:
    call = at_main_menu()
    call.send(Digits("2", NOW))
    state = call.state
    assert state is not None
    changes = [
        {},
        {"stage": "ended", "retries": 3},
        {"account": GLOBEX, "topic": "billing", "path": state.path[:1]},
        {name: getattr(state, name) for name in state.__dataclass_fields__},
    ]
    for change in changes:
        evolved = state.evolved(**change)
        replaced = replace(state, **change)
        assert evolved == replaced
        assert evolved.__dict__ == replaced.__dict__
        assert evolved is not state
        assert CallState.from_dict(evolved.to_dict()) == evolved
    with pytest.raises(TypeError, match="no field 'colour'"):
        state.evolved(colour="blue")
    with pytest.raises(AttributeError):
        state.evolved().step = "x"  # type: ignore[misc]  # still frozen
