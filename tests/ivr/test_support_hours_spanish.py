"""The shipped line in Spanish, and what callers hear outside opening hours."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.ivr import (
    CheckHours,
    Digits,
    Gather,
    Hangup,
    HoursResult,
    LookupResult,
    Prompt,
    Record,
    RecordingDone,
    Route,
    RouteResult,
    Speech,
    Start,
)
from app.ivr.opening import spoken_opening

from .flowkit import (
    ACME,
    CALLER,
    FLOWS_DIR,
    GLOBEX,
    NOW,
    OPEN,
    SUPPORT_LINE,
    Call,
    flow_from_text,
    support_flow,
    texts,
)

MEXICO = ZoneInfo("America/Mexico_City")
TOKYO = ZoneInfo("Asia/Tokyo")
# Friday 4 December 2026, 22:00 in Mexico City.
FRIDAY_NIGHT = datetime(2026, 12, 4, 22, 0, tzinfo=MEXICO)


def at_hours_check(key: str, account: object = ACME) -> Call:
    """A call identified by caller ID, waiting for the hours check."""
    call = Call(support_flow())
    call.feed([Start(CALLER, SUPPORT_LINE, NOW), Digits(key, NOW)])
    turn = call.send(LookupResult([account], NOW))  # type: ignore[list-item]
    assert isinstance(turn.action, CheckHours)
    return call


def test_spanish_caller_walks_the_line_in_natural_mexican_spanish() -> None:
    call = Call(support_flow(), OPEN)
    call.send(Start(CALLER, SUPPORT_LINE, NOW))
    turn = call.send(Digits("5", NOW))
    assert turn.state.language == "es"
    turn = call.send(LookupResult([ACME], NOW))
    assert texts(turn)[0] == "Qué gusto saludarle de nuevo, Acme Robotics."
    assert texts(turn)[1].startswith("¿En qué podemos ayudarle? Para pagos y depósitos, oprima 1.")
    assert {(p.voice, p.say_language) for p in turn.prompts if isinstance(p, Prompt)} == {
        ("Polly.Mia", "es-MX")
    }
    assert isinstance(turn.action, Gather)
    assert turn.action.speech_language == "es-MX"
    assert "factura" in turn.action.hints
    turn = call.send(Speech("Hola, tengo una duda con mi factura del mes pasado", 0.9, NOW))
    assert isinstance(turn.action, Route)
    assert (turn.action.team, turn.action.language, turn.action.skill) == (
        "support-es",
        "es",
        "billing",
    )
    assert [p.text for p in turn.action.announce if isinstance(p, Prompt)] == [
        "Por favor, permanezca en la línea mientras le comunicamos con un especialista."
    ]
    assert [p.text for p in turn.action.hold if isinstance(p, Prompt)] == [
        "Todos nuestros especialistas están ocupados. Usted es el número {position} en la fila."
    ]
    # Same overflow as every language team: support-en, then voicemail.
    turn = call.send(RouteResult("nobody_available", None, NOW))
    assert isinstance(turn.action, Route)
    assert (turn.action.team, turn.action.language) == ("support-en", "es")
    turn = call.send(RouteResult("nobody_available", None, NOW))
    assert turn.action == Record(120, True)
    assert texts(turn)[0].startswith("Lo sentimos, en este momento no hay nadie disponible")
    turn = call.send(RecordingDone("https://api.twilio.com/rec/RE9", 12, NOW))
    assert turn.action == Hangup()
    assert texts(turn) == [
        "Gracias por su mensaje. Nos comunicaremos con usted lo antes posible. Hasta luego."
    ]


@pytest.mark.parametrize(
    ("said", "topic"),
    [
        ("quiero saber dónde está mi depósito", "payments"),
        ("un reembolso por favor", "payments"),
        ("necesito cambiar mi suscripción", "billing"),
        ("soy desarrollador y la integración falla", "developers"),
        ("es otra cosa", "general"),
    ],
)
def test_spanish_speech_keywords_pick_the_topic(said: str, topic: str) -> None:
    call = Call(support_flow(), OPEN)
    call.feed([Start(CALLER, SUPPORT_LINE, NOW), Digits("5", NOW), LookupResult([ACME], NOW)])
    turn = call.send(Speech(said, 0.8, NOW))
    assert isinstance(turn.action, Route)
    assert turn.action.skill == topic


def test_paid_spanish_caller_is_checked_against_every_team_that_could_answer() -> None:
    call = at_hours_check("5", GLOBEX)
    assert call.turns[-1].action == CheckHours("paid-support", ("support-es", "support-en"))
    standard = at_hours_check("5")
    assert standard.turns[-1].action == CheckHours("support-es", ("support-en",))
    english = at_hours_check("1")
    assert english.turns[-1].action == CheckHours("support-en", ())


def test_closed_says_when_the_line_opens_in_the_callers_language_then_offers_voicemail() -> None:
    call = at_hours_check("5")
    opens = datetime(2026, 12, 5, 9, 0, tzinfo=MEXICO)
    turn = call.send(HoursResult(False, FRIDAY_NIGHT.astimezone(UTC), opens_at=opens))
    assert texts(turn) == [
        "Qué gusto saludarle de nuevo, Acme Robotics.",  # the greeting waited for the answer
        "En este momento nuestra línea de soporte está cerrada. "
        "Volvemos a atenderle mañana a las 9 de la mañana.",
        "Si lo desea, deje su nombre y un breve mensaje después del tono, "
        "y le devolveremos la llamada.",
    ]
    assert turn.action == Record(120, True)
    assert ("check_hours", "closed, opens 2026-12-05T09:00:00-06:00") in [
        (e.step, e.input) for e in turn.state.path
    ]


def test_holiday_has_its_own_message() -> None:
    call = at_hours_check("2")
    now = datetime(2026, 1, 1, 10, 0, tzinfo=TOKYO)
    opens = datetime(2026, 1, 2, 9, 0, tzinfo=TOKYO)
    turn = call.send(HoursResult(False, now, holiday=True, opens_at=opens))
    assert texts(turn)[1] == (
        "本日は祝日のため、受付を休止しております。明日の午前9時から受付を再開いたします。"
    )
    assert isinstance(turn.action, Record)


def test_a_closure_message_comes_first_in_the_callers_language_or_english() -> None:
    messages = {"en": "Our office is closed for our team day.", "fr": "Journée d'équipe."}
    call = at_hours_check("3")
    paris = ZoneInfo("Europe/Paris")
    opens = datetime(2026, 12, 7, 9, 0, tzinfo=paris)
    now = datetime(2026, 12, 4, 18, 0, tzinfo=paris)
    turn = call.send(HoursResult(False, now, opens_at=opens, messages=messages))
    assert texts(turn)[1:3] == [
        "Journée d'équipe.",
        "Notre service d'assistance est fermé pour le moment. Nous rouvrons lundi à 9 h.",
    ]
    german = at_hours_check("4")
    turn = german.send(HoursResult(False, NOW, opens_at=None, messages=messages))
    assert texts(turn)[1:3] == [
        "Our office is closed for our team day.",
        "Unser Support ist im Moment nicht erreichbar. "
        "Wir sind sobald ein Mitarbeiter im Dienst ist wieder für Sie da.",
    ]
    assert turn.prompts[1] == Prompt(messages["en"], "en", "Polly.Joanna", "en-US")


def test_open_goes_on_to_the_topic_menu() -> None:
    call = at_hours_check("1")
    turn = call.send(HoursResult(True, NOW))
    assert texts(turn)[0] == "Welcome back, Acme Robotics."
    assert call.step == "topic"


NOW_MX = datetime(2026, 12, 4, 22, 0, tzinfo=MEXICO)  # a Friday


@pytest.mark.parametrize(
    ("opens", "expected"),
    [
        (
            datetime(2026, 12, 4, 23, 30, tzinfo=MEXICO),
            {
                "en": "today at 11:30 PM",
                "es": "hoy a las 11:30 de la noche",
                "fr": "aujourd'hui à 23 h 30",
                "de": "heute um 23:30 Uhr",
                "ja": "本日の午後11時30分から",
            },
        ),
        (
            datetime(2026, 12, 5, 9, 0, tzinfo=MEXICO),
            {
                "en": "tomorrow at 9 AM",
                "es": "mañana a las 9 de la mañana",
                "fr": "demain à 9 h",
                "de": "morgen um 9 Uhr",
                "ja": "明日の午前9時から",
            },
        ),
        (
            datetime(2026, 12, 7, 13, 0, tzinfo=MEXICO),
            {
                "en": "on Monday at 1 PM",
                "es": "el lunes a la 1 de la tarde",
                "fr": "lundi à 13 h",
                "de": "am Montag um 13 Uhr",
                "ja": "月曜日の午後1時から",
            },
        ),
        (
            datetime(2026, 12, 14, 12, 0, tzinfo=MEXICO),
            {
                "en": "on Monday, December 14, at noon",
                "es": "el lunes 14 de diciembre al mediodía",
                "fr": "le lundi 14 décembre à midi",
                "de": "am Montag, dem 14. Dezember, um 12 Uhr",
                "ja": "12月14日(月曜日)の午後0時から",
            },
        ),
    ],
)
def test_opening_times_are_spoken_naturally(opens: datetime, expected: dict[str, str]) -> None:
    assert {code: spoken_opening(opens, NOW_MX, code) for code in expected} == expected


def test_opening_is_relative_to_the_teams_day_not_utcs() -> None:
    # 22:00 in Mexico City is already Saturday in UTC; 9:00 Saturday is still "tomorrow".
    opens = datetime(2026, 12, 5, 9, 0, tzinfo=MEXICO)
    assert spoken_opening(opens, NOW_MX.astimezone(UTC), "en") == "tomorrow at 9 AM"
    assert spoken_opening(opens, NOW_MX, "pt-BR") == "tomorrow at 9 AM"  # unknown: English


def test_the_hours_step_example_in_the_docs_is_a_valid_flow() -> None:
    doc = (FLOWS_DIR.parent / "docs" / "closures-and-hours.md").read_text(encoding="utf-8")
    block = re.findall(r"```yaml\n(.*?)```", doc, flags=re.DOTALL)[0]
    steps = "".join(f"  {line}\n" for line in block.splitlines())
    text = (
        "name: docs\ndefault: true\nlanguages:\n  en: Polly.Joanna\nstart: check_hours\n"
        "steps:\n" + steps + "  topic: {kind: hangup}\n  closed:\n    kind: say\n"
        "    prompt: We open again {opens_at}.\n    next: topic\n  holiday: {kind: hangup}\n"
    )
    flow = flow_from_text(text, {"paid-support", "support-en"})
    assert flow.steps["check_hours"].kind == "hours"
