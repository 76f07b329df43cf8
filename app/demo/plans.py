"""What the demo callers do: who calls, when, in which language, and how each call goes.

Plans are drawn from a seeded random generator, so one seed gives the same traffic. Callers
come in bursts (one to five people calling the same line within minutes), mostly in the
line's office hours; a burst larger than the people on shift makes callers queue, and calls
at night or at weekends find nobody and leave voicemails.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from app.seed import DEMO_ACCOUNTS, demo_account_number

# The line each caller reaches (the shipped flow: paid tier first, else by language).
LINE_ZONES = {
    "paid": "Europe/Dublin",
    "en": "America/Los_Angeles",
    "es": "America/Mexico_City",
    "fr": "Europe/Paris",
    "de": "Europe/Berlin",
    "ja": "Asia/Tokyo",
}
# Callers whose number is not on an account: (country prefix, local digits, language).
UNKNOWN_NUMBERS = (
    ("+1206555", 4, "en"),
    ("+1312555", 4, "en"),
    ("+4420794", 5, "en"),
    ("+3314268", 4, "fr"),
    ("+4930901", 4, "de"),
    ("+8133456", 4, "ja"),
    ("+5255512", 5, "es"),
)
# What callers say when the topic menu listens (keys otherwise).
SPOKEN_TOPICS = {
    "en": ("I have a question about a refund", "my invoice looks wrong", "the API gives an error"),
    "fr": ("une question sur ma facture", "un remboursement"),
    "de": ("eine Frage zur Auszahlung", "meine Rechnung"),
    "ja": ("請求について", "返金の件です"),
    "es": ("tengo una pregunta sobre mi factura", "un reembolso"),
}
VOICEMAILS = {
    "en": "Hi, this is about my last payout, it has not arrived yet. Please call me back.",
    "fr": "Bonjour, c'est au sujet de ma facture. Merci de me rappeler.",
    "de": "Guten Tag, es geht um meine Rechnung. Bitte rufen Sie mich zurück.",
    "ja": "お世話になっております。請求の件でお電話しました。折り返しお願いします。",
    "es": "Hola, llamo por un reembolso pendiente. Por favor devuélvanme la llamada.",
}
IvrHangup = Literal["language", "topic"] | None
QueueChoice = Literal["hang_up", "callback", "wait"]


@dataclass(frozen=True)
class CallPlan:
    """One demo caller and what they will do."""

    from_number: str
    language: str
    tier: str
    typed_account: str | None  # keyed in when caller ID does not identify them
    hang_up_in_ivr: IvrHangup
    topic_key: str
    spoken_topic: str | None
    queue_choice: QueueChoice
    first_ring_unanswered: bool
    leaves_voicemail: bool
    voicemail_text: str
    talk_seconds: int


@dataclass(frozen=True)
class Burst:
    """Callers reaching the same line within minutes of `start`."""

    start: datetime
    calls: tuple[CallPlan, ...]


def _caller(
    rng: random.Random, language: str | None, tier: str | None
) -> tuple[str, str, str, str | None]:
    """A caller's number, language, tier and the account number they would type."""
    known = [
        a
        for a in DEMO_ACCOUNTS
        if (language is None or a.language == language) and (tier is None or a.tier == tier)
    ]
    if known and rng.random() < 0.7:
        account = rng.choice(known)
        return account.phones[0], account.language, account.tier, None
    candidates = [u for u in UNKNOWN_NUMBERS if language is None or u[2] == language]
    prefix, width, lang = rng.choice(candidates or list(UNKNOWN_NUMBERS))
    number = prefix + "".join(str(rng.randrange(10)) for _ in range(width))
    typed = None
    same_language = [a for a in DEMO_ACCOUNTS if a.language == lang]
    if same_language and rng.random() < 0.4:
        # Calling from a mobile: types the account number.
        account = rng.choice(same_language)
        return number, lang, account.tier, demo_account_number(account.payload)
    return number, lang, "standard", typed


def _plan(rng: random.Random, language: str | None, tier: str | None) -> CallPlan:
    number, lang, caller_tier, typed = _caller(rng, language, tier)
    roll = rng.random()
    hang_up: IvrHangup = "language" if roll < 0.04 else "topic" if roll < 0.09 else None
    spoken = (
        rng.choice(SPOKEN_TOPICS[lang]) if lang in SPOKEN_TOPICS and rng.random() < 0.3 else None
    )
    return CallPlan(
        from_number=number,
        language=lang,
        tier=caller_tier,
        typed_account=typed,
        hang_up_in_ivr=hang_up,
        topic_key=rng.choice("11122330"),
        spoken_topic=spoken,
        queue_choice=rng.choice(("hang_up", "callback", "wait", "wait")),
        first_ring_unanswered=rng.random() < 0.1,
        leaves_voicemail=rng.random() < 0.8,
        voicemail_text=VOICEMAILS.get(lang, VOICEMAILS["en"]),
        talk_seconds=rng.randrange(90, 720),
    )


def _start(rng: random.Random, zone: str, now: datetime, days: int) -> datetime:
    """An instant in the last `days` days: mostly office hours of the line's zone."""
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    for _ in range(50):
        day: date = today - timedelta(days=rng.randrange(days))
        if rng.random() < 0.8:
            if day.weekday() >= 5:
                continue
            local = time(rng.randrange(9, 17), rng.randrange(60))
        else:
            local = time(rng.randrange(24), rng.randrange(60))
        at = datetime.combine(day, local, tzinfo=tz)
        if at < now - timedelta(minutes=45):
            return at
    return now - timedelta(hours=rng.randrange(1, 24 * days))


def plan_bursts(rng: random.Random, count: int, days: int, now: datetime) -> list[Burst]:
    """About `count` calls in bursts over the last `days` days, oldest first."""
    bursts: list[Burst] = []
    left = count
    while left > 0:
        size = min(left, rng.choice((1, 1, 1, 2, 2, 3, 4, 5)))
        line = rng.choice(("en", "en", "en", "paid", "es", "fr", "de", "ja"))
        language = None if line == "paid" else line
        tier = "paid" if line == "paid" else "standard" if size > 1 else None
        calls = tuple(_plan(rng, language, tier) for _ in range(size))
        bursts.append(Burst(_start(rng, LINE_ZONES[line], now, days), calls))
        left -= size
    return sorted(bursts, key=lambda b: b.start)
