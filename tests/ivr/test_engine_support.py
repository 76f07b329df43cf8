"""Walking the shipped support line as callers would."""

from __future__ import annotations

import pytest

from app.ivr import (
    AccountInfo,
    Digits,
    Gather,
    Hangup,
    LookupAccount,
    LookupResult,
    NoInput,
    Prompt,
    Record,
    RecordingDone,
    Route,
    RouteResult,
    Speech,
    Start,
)

from .flowkit import (
    ACME,
    CALLER,
    GLOBEX,
    NOW,
    OPEN,
    SUPPORT_LINE,
    Call,
    languages,
    support_flow,
    texts,
)

TOPIC_EN = "What is your call about?"


def start_call(language_key: str = "1", caller: str = CALLER) -> Call:
    """A call on the support line that has chosen a language."""
    call = Call(support_flow(), OPEN)
    first = call.send(Start(caller, SUPPORT_LINE, NOW))
    assert isinstance(first.action, Gather)
    call.send(Digits(language_key, NOW))
    return call


def identified(language_key: str = "1", account: AccountInfo = ACME) -> Call:
    """A call recognised by caller ID, now at the topic menu."""
    call = start_call(language_key)
    turn = call.send(LookupResult([account], NOW))
    assert isinstance(turn.action, Gather)
    assert call.step == "topic"
    return call


def test_greeting_then_language_menu_each_in_its_own_language() -> None:
    turn = Call(support_flow(), OPEN).send(Start(CALLER, SUPPORT_LINE, NOW))
    assert texts(turn) == [
        "Thank you for calling support.",
        "For English, press 1.",
        "日本語をご希望の方は、2を押してください。",
        "Pour le français, appuyez sur 3.",
        "Für Deutsch drücken Sie bitte die 4.",
        "Para español, oprima 5.",
    ]
    assert languages(turn) == ["en", "en", "ja", "fr", "de", "es"]
    voices = [p.voice for p in turn.prompts if isinstance(p, Prompt)]
    assert voices == [
        "Polly.Joanna",
        "Polly.Joanna",
        "Polly.Mizuki",
        "Polly.Celine",
        "Polly.Vicki",
        "Polly.Mia",
    ]
    assert turn.action == Gather("digits", 1, None, 5, "en-US", ())
    assert turn.state.path[0].at == NOW.isoformat()


def test_known_caller_full_walk_to_an_answered_call() -> None:
    call = start_call("1")
    assert call.turns[-1].action == LookupAccount("caller_id", CALLER)
    assert call.turns[-1].prompts == ()
    turn = call.send(LookupResult([ACME], NOW))
    assert texts(turn)[0] == "Welcome back, Acme Robotics."
    assert texts(turn)[1].startswith(TOPIC_EN)
    assert isinstance(turn.action, Gather)
    assert turn.action.input == "both"
    assert "invoice" in turn.action.hints
    turn = call.send(Digits("1", NOW))
    # "Please hold" travels with the route: said only if someone is rung.
    assert texts(turn) == []
    assert turn.action == Route(
        team="support-en",
        language="en",
        skill="payments",
        tier="standard",
        strategy="longest_idle",
        batch_size=2,
        ring_timeout=20,
        max_attempts=3,
        max_wait=300,
        attempt=1,
        hold=(
            Prompt(
                "All our specialists are busy. You are number {position} in the queue.",
                "en",
                "Polly.Joanna",
                "en-US",
            ),
        ),
        callback_offer=(
            Prompt(
                "To be called back instead of waiting, press 1 at any time.",
                "en",
                "Polly.Joanna",
                "en-US",
            ),
        ),
        callback_key="1",
        announce=(
            Prompt(
                "Please hold while we connect you to a specialist.",
                "en",
                "Polly.Joanna",
                "en-US",
            ),
        ),
    )
    turn = call.send(RouteResult("answered", "spec-7", NOW))
    assert turn.action == Hangup()
    assert turn.prompts == ()
    assert turn.state.account == ACME
    assert turn.state.topic == "payments"
    assert [(e.step, e.input) for e in turn.state.path] == [
        ("welcome", None),
        ("choose_language", None),
        ("choose_language", "1"),
        ("identify", None),
        ("identify", "account acc-1"),
        ("check_hours", None),
        ("check_hours", "open"),
        ("topic", None),
        ("topic", "1"),
        ("connect", None),
        ("connect", "support-en: answered by spec-7"),
    ]


def test_unknown_caller_types_an_account_number_that_matches() -> None:
    call = start_call("1")
    turn = call.send(LookupResult([], NOW))
    assert texts(turn) == ["Please enter your account number, followed by the pound key."]
    assert turn.action == Gather("digits", None, "#", 10, "en-US", ())
    turn = call.send(Digits("12345#", NOW))
    assert turn.action == LookupAccount("account_number", "12345")
    turn = call.send(LookupResult([ACME], NOW))
    assert texts(turn)[0] == "Welcome back, Acme Robotics."
    assert call.step == "topic"
    assert turn.state.account_number == "12345"


def test_unknown_caller_with_no_match_twice_continues_as_unknown() -> None:
    call = start_call("1")
    call.send(LookupResult([], NOW))
    call.send(Digits("111", NOW))
    turn = call.send(LookupResult([], NOW))
    assert texts(turn) == [
        "Sorry, we didn't recognise an account number. Let's try once more.",
        "Please enter your account number, followed by the pound key.",
    ]
    assert isinstance(turn.action, Gather)
    call.send(Digits("222", NOW))
    turn = call.send(LookupResult([], NOW))
    assert texts(turn)[0] == "No problem, we'll continue without your account number."
    assert texts(turn)[1].startswith(TOPIC_EN)
    assert turn.state.account is None
    turn = call.send(Digits("0", NOW))
    assert isinstance(turn.action, Route)
    assert (turn.action.team, turn.action.tier, turn.action.skill) == (
        "support-en",
        "unknown",
        "general",
    )


def test_several_caller_id_matches_ask_for_the_account_number() -> None:
    call = start_call("1")
    turn = call.send(LookupResult([ACME, GLOBEX], NOW))
    assert turn.action == Gather("digits", None, "#", 10, "en-US", ())
    assert turn.state.account is None
    call.send(Digits("999", NOW))
    turn = call.send(LookupResult([GLOBEX], NOW))
    assert turn.state.account == GLOBEX


def test_anonymous_caller_is_asked_straight_away() -> None:
    call = start_call("1", caller="anonymous")
    assert isinstance(call.turns[-1].action, Gather)
    assert texts(call.turns[-1]) == ["Please enter your account number, followed by the pound key."]


def test_silence_at_the_account_number_counts_as_a_retry() -> None:
    call = start_call("1")
    call.send(LookupResult([], NOW))
    call.send(NoInput(NOW))
    turn = call.send(NoInput(NOW))
    assert call.step == "topic"
    assert texts(turn)[0] == "No problem, we'll continue without your account number."


def test_paid_account_goes_to_paid_support_then_support_en() -> None:
    call = identified("1", GLOBEX)
    turn = call.send(Digits("3", NOW))
    assert isinstance(turn.action, Route)
    assert (turn.action.team, turn.action.tier, turn.action.skill) == (
        "paid-support",
        "paid",
        "developers",
    )
    turn = call.send(RouteResult("nobody_available", None, NOW))
    assert isinstance(turn.action, Route)
    assert turn.action.team == "support-en"


def test_japanese_caller_overflows_to_support_en_then_voicemail() -> None:
    call = identified("2")
    turn = call.turns[-1]
    assert texts(turn)[0] == "Acme Robotics様、いつもご利用いただきありがとうございます。"
    assert set(languages(turn)) == {"ja"}
    assert isinstance(turn.action, Gather)
    assert turn.action.speech_language == "ja-JP"
    turn = call.send(Digits("2", NOW))
    assert isinstance(turn.action, Route)
    assert (turn.action.team, turn.action.language, turn.action.skill) == (
        "support-ja",
        "ja",
        "billing",
    )
    assert texts(turn) == []
    assert [p.text for p in turn.action.announce if isinstance(p, Prompt)] == [
        "担当者におつなぎいたします。少々お待ちください。"
    ]
    turn = call.send(RouteResult("nobody_available", None, NOW))
    assert isinstance(turn.action, Route)
    assert (turn.action.team, turn.action.attempt) == ("support-en", 1)
    for attempt in (2, 3):
        turn = call.send(RouteResult("no_answer", None, NOW))
        assert isinstance(turn.action, Route)
        assert (turn.action.team, turn.action.attempt) == ("support-en", attempt)
    turn = call.send(RouteResult("no_answer", None, NOW))
    assert turn.action == Record(120, True)
    assert texts(turn)[0].startswith("申し訳ありません。ただいま電話に出られる担当者がおりません。")
    turn = call.send(RecordingDone("https://api.twilio.com/rec/RE1", 42, NOW))
    assert turn.action == Hangup()
    assert texts(turn) == [
        "メッセージをありがとうございました。できるだけ早くご連絡いたします。失礼いたします。"
    ]
    assert turn.state.path[-2].input == "recording https://api.twilio.com/rec/RE1 (42 s)"


def test_english_caller_does_not_ring_support_en_twice() -> None:
    call = identified("1")
    call.send(Digits("1", NOW))
    turn = call.send(RouteResult("queue_timeout", None, NOW))
    assert turn.action == Record(120, True)


@pytest.mark.parametrize(
    ("key", "team", "thanks"),
    [
        ("3", "support-fr", "Merci pour votre message."),
        ("4", "support-de", "Vielen Dank für Ihre Nachricht."),
    ],
)
def test_french_and_german_callers(key: str, team: str, thanks: str) -> None:
    call = identified(key)
    turn = call.send(Digits("0", NOW))
    assert isinstance(turn.action, Route)
    assert turn.action.team == team
    call.send(RouteResult("nobody_available", None, NOW))
    call.send(RouteResult("nobody_available", None, NOW))
    turn = call.send(RecordingDone("https://example.com/r", 5, NOW))
    assert texts(turn)[0].startswith(thanks)


def test_topic_menu_no_input_exhaustion_falls_back_to_routing() -> None:
    call = identified("1")
    first = call.send(NoInput(NOW))
    assert texts(first)[0] == "Sorry, we didn't catch that."
    assert texts(first)[1].startswith(TOPIC_EN)
    assert first.state.retries == 1
    call.send(NoInput(NOW))
    turn = call.send(NoInput(NOW))
    assert isinstance(turn.action, Route)
    assert turn.action.skill is None
    assert turn.state.topic is None


def test_invalid_digits_count_as_retries_then_fall_back() -> None:
    call = identified("1")
    turn = call.send(Digits("7", NOW))
    assert isinstance(turn.action, Gather)
    assert turn.state.retries == 1
    assert texts(turn)[0] == "Sorry, we didn't catch that."
    call.send(Digits("9", NOW))
    turn = call.send(Digits("#", NOW))
    assert isinstance(turn.action, Route)
    assert [e.input for e in turn.state.path if e.step == "topic"] == [None, "7", "9", "#"]


def test_a_good_key_after_a_mistake_still_works() -> None:
    call = identified("1")
    call.send(Digits("5", NOW))
    turn = call.send(Digits("2", NOW))
    assert isinstance(turn.action, Route)
    assert turn.action.skill == "billing"


def test_language_menu_silence_keeps_english() -> None:
    call = Call(support_flow(), OPEN)
    call.send(Start(CALLER, SUPPORT_LINE, NOW))
    turn = call.send(NoInput(NOW))
    assert texts(turn)[0] == "Sorry, we didn't get that."
    call.send(NoInput(NOW))
    turn = call.send(Digits("8", NOW))
    assert turn.action == LookupAccount("caller_id", CALLER)
    assert turn.state.language == "en"


@pytest.mark.parametrize(
    ("key", "said", "topic"),
    [
        ("1", "I have a question about my invoice", "billing"),
        ("1", "Payouts are late", "payments"),
        ("1", "Something about the API please.", "developers"),
        ("1", "something else", "general"),
        ("1", "Two", None),
        ("1", "2.", "billing"),
        ("3", "J'ai un problème avec un paiement", "payments"),
        ("3", "Une question sur ma facture.", "billing"),
        ("3", "Je suis développeur", "developers"),
        ("3", "Je suis developpeur", "developers"),
        ("2", "APIの連携について", "developers"),
        ("4", "Meine Rechnung ist falsch", "billing"),
    ],
)
def test_speech_input_is_matched_in_the_call_language(
    key: str, said: str, topic: str | None
) -> None:
    call = identified(key)
    turn = call.send(Speech(said, 0.8, NOW))
    if topic is None:
        assert isinstance(turn.action, Gather)
        assert turn.state.retries == 1
    else:
        assert isinstance(turn.action, Route)
        assert turn.action.skill == topic
        assert turn.state.path[-2].input == f"said: {said}"


def test_speech_in_another_language_does_not_match() -> None:
    call = identified("1")
    turn = call.send(Speech("facture", 0.9, NOW))  # French word, English call
    assert isinstance(turn.action, Gather)


def test_empty_speech_counts_as_no_input() -> None:
    call = identified("1")
    turn = call.send(Speech("  ", 0.0, NOW))
    assert turn.state.path[-1].input == "no input"
