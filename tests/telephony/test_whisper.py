"""What a specialist hears before accepting: who calls, in which language, about what, history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.calls import service as calls
from app.core.clock import FixedClock
from app.core.db import Database
from app.models.account import Account
from app.telephony.legs import whisper_text
from app.telephony.whisper_words import whisper_sentence, words_for


async def test_the_whisper_tells_who_calls_and_their_history(
    db: Database, clock: FixedClock
) -> None:
    now = clock.now()
    async with db.transaction() as session:
        account = Account(
            number="1000017", name="Acme Payments", tier="paid", created_at=now, updated_at=now
        )
        session.add(account)
        await session.flush()
        made = []
        for i, outcome in enumerate(("answered", None, "voicemail")):
            call = calls.open_call(
                session,
                sid=f"CA{i:032d}",
                from_number="+14155550199",
                to_number="+18005550100",
                status="completed",
                now=now - timedelta(days=3 - i),
            )
            call.account_id = account.id
            call.outcome = outcome
            made.append(call)
        current = calls.open_call(
            session,
            sid="CA" + "9" * 32,
            from_number="+14155550199",
            to_number="+18005550100",
            status="in-progress",
            now=now,
        )
        current.account_id, current.language, current.topic = account.id, "ja", "billing"
        await session.flush()
        text = await whisper_text(session, current)
        # A Japanese call: the specialist (who speaks Japanese) hears Japanese.
        assert text == (
            "Acme Payments様、有料サポートプランのお客様からのサポート電話です。"
            "日本語でのお問い合わせです。ご用件はアカウントとご請求です。"
            " 過去のお電話は3件、前回は留守番電話です。"
        )
        current.language = "en"
        assert await whisper_text(session, current) == (
            "Support call from Acme Payments, paid tier, in English, about account and billing."
            " 3 earlier calls; the last one: voicemail."
        )
        made[2].outcome = None  # the newest earlier call has no outcome recorded
        await session.flush()
        assert (await whisper_text(session, current)).endswith(" 3 earlier calls.")
        stranger = calls.open_call(
            session, sid="CA" + "8" * 32, from_number="", to_number="", status=None, now=now
        )
        await session.flush()
        assert await whisper_text(session, stranger) == (
            "Support call from an unidentified caller."
        )


FACTS = {
    "account_name": "Kelp & Co",
    "tier": "paid",
    "topic": "payments",
    "earlier": 2,
    "last_outcome": "abandoned",
}
EXPECTED = {
    "en": "Support call from Kelp & Co, paid tier, in {lang}, about payments and payouts. "
    "2 earlier calls; the last one: abandoned.",
    "ja": "Kelp & Co様、有料サポートプランのお客様からのサポート電話です。"
    "{lang}でのお問い合わせです。ご用件はお支払いと入金です。"
    " 過去のお電話は2件、前回は途中で切断です。",
    "fr": "Appel d'assistance de Kelp & Co, offre support payant, en {lang}, "
    "au sujet de : paiements et versements. 2 appels précédents ; le dernier : abandonné.",
    "de": "Supportanruf von Kelp & Co, Tarif Premium-Support, auf {lang}, "
    "zum Thema Zahlungen und Auszahlungen. 2 frühere Anrufe; der letzte: abgebrochen.",
    "es": "Llamada de soporte de Kelp & Co, plan de soporte de pago, en {lang}, "
    "sobre pagos y depósitos. 2 llamadas anteriores; la última: abandonada.",
}
OWN_NAME = {"en": "English", "ja": "日本語", "fr": "français", "de": "Deutsch", "es": "español"}


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_every_language_says_the_same_facts(language: str) -> None:
    words = words_for(language)
    text = whisper_sentence(words, call_language=language, **FACTS)  # type: ignore[arg-type]
    assert text == EXPECTED[language].format(lang=OWN_NAME[language])
    assert words.press_one and words.no_key
    unknown = whisper_sentence(
        words,
        account_name=None,
        tier=None,
        call_language=None,
        topic=None,
        earlier=None,
        last_outcome=None,
    )
    assert unknown == words.unknown + words.end
    assert words_for("pt-BR") is words_for("en")
