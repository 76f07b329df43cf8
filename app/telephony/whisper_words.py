"""What a specialist hears on picking up, in the language of the call.

A specialist taking a Japanese call hears Japanese (they speak it: routing rang them for
it), with the same facts as in English: who is calling, their tier, the call's language
and topic, how many earlier calls and how the last one ended.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WhisperWords:
    """One language's sentences and names."""

    say_language: str
    voice: str
    known: str  # {name}, {tier}
    unknown: str
    language: str  # {language}
    topic: str  # {topic}
    first_call: str
    one_earlier: str  # {outcome}
    earlier: str  # {count}, {outcome}
    one_earlier_plain: str
    earlier_plain: str  # {count}
    press_one: str
    no_key: str
    tiers: dict[str, str]
    languages: dict[str, str]
    topics: dict[str, str]
    outcomes: dict[str, str]
    joiner: str = ", "
    end: str = "."


WORDS: dict[str, WhisperWords] = {
    "en": WhisperWords(
        "en-US",
        "Polly.Joanna",
        known="Support call from {name}, {tier} tier",
        unknown="Support call from an unidentified caller",
        language="in {language}",
        topic="about {topic}",
        first_call="First call.",
        one_earlier="1 earlier call; the last one: {outcome}.",
        earlier="{count} earlier calls; the last one: {outcome}.",
        one_earlier_plain="1 earlier call.",
        earlier_plain="{count} earlier calls.",
        press_one="Press 1 to accept the call.",
        no_key="No key pressed. Goodbye.",
        tiers={"standard": "standard", "paid": "paid"},
        languages={
            "en": "English",
            "ja": "Japanese",
            "fr": "French",
            "de": "German",
            "es": "Spanish",
        },
        topics={
            "payments": "payments and payouts",
            "billing": "account and billing",
            "developers": "developers and the API",
            "general": "something else",
        },
        outcomes={
            "answered": "answered",
            "voicemail": "voicemail",
            "transferred": "transferred",
            "callback": "callback",
            "ended": "ended",
            "abandoned": "abandoned",
        },
    ),
    "ja": WhisperWords(
        "ja-JP",
        "Polly.Mizuki",
        known="{name}様、{tier}のお客様からのサポート電話です",
        unknown="お客様を特定できていないサポート電話です",
        language="{language}でのお問い合わせです",
        topic="ご用件は{topic}です",
        first_call="初めてのお電話です。",
        one_earlier="過去のお電話は1件、前回は{outcome}です。",
        earlier="過去のお電話は{count}件、前回は{outcome}です。",
        one_earlier_plain="過去のお電話は1件です。",
        earlier_plain="過去のお電話は{count}件です。",
        press_one="お受けになる場合は1を押してください。",
        no_key="入力がありませんでした。失礼いたします。",
        tiers={"standard": "スタンダードプラン", "paid": "有料サポートプラン"},
        languages={
            "en": "英語",
            "ja": "日本語",
            "fr": "フランス語",
            "de": "ドイツ語",
            "es": "スペイン語",
        },
        topics={
            "payments": "お支払いと入金",
            "billing": "アカウントとご請求",
            "developers": "開発者向けサービスとAPI",
            "general": "その他",
        },
        outcomes={
            "answered": "対応済み",
            "voicemail": "留守番電話",
            "transferred": "転送",
            "callback": "折り返しのご依頼",
            "ended": "終了",
            "abandoned": "途中で切断",
        },
        joiner="。",
        end="。",
    ),
    "fr": WhisperWords(
        "fr-FR",
        "Polly.Celine",
        known="Appel d'assistance de {name}, offre {tier}",
        unknown="Appel d'assistance d'un appelant non identifié",
        language="en {language}",
        topic="au sujet de : {topic}",
        first_call="Premier appel.",
        one_earlier="1 appel précédent ; le dernier : {outcome}.",
        earlier="{count} appels précédents ; le dernier : {outcome}.",
        one_earlier_plain="1 appel précédent.",
        earlier_plain="{count} appels précédents.",
        press_one="Appuyez sur 1 pour prendre l'appel.",
        no_key="Aucune touche pressée. Au revoir.",
        tiers={"standard": "standard", "paid": "support payant"},
        languages={
            "en": "anglais",
            "ja": "japonais",
            "fr": "français",
            "de": "allemand",
            "es": "espagnol",
        },
        topics={
            "payments": "paiements et versements",
            "billing": "compte et facturation",
            "developers": "développeurs et API",
            "general": "autre demande",
        },
        outcomes={
            "answered": "pris en charge",
            "voicemail": "message vocal",
            "transferred": "transféré",
            "callback": "rappel demandé",
            "ended": "terminé",
            "abandoned": "abandonné",
        },
    ),
    "de": WhisperWords(
        "de-DE",
        "Polly.Vicki",
        known="Supportanruf von {name}, Tarif {tier}",
        unknown="Supportanruf von einem nicht erkannten Anrufer",
        language="auf {language}",
        topic="zum Thema {topic}",
        first_call="Erster Anruf.",
        one_earlier="1 früherer Anruf; der letzte: {outcome}.",
        earlier="{count} frühere Anrufe; der letzte: {outcome}.",
        one_earlier_plain="1 früherer Anruf.",
        earlier_plain="{count} frühere Anrufe.",
        press_one="Drücken Sie die 1, um den Anruf anzunehmen.",
        no_key="Keine Taste gedrückt. Auf Wiederhören.",
        tiers={"standard": "Standard", "paid": "Premium-Support"},
        languages={
            "en": "Englisch",
            "ja": "Japanisch",
            "fr": "Französisch",
            "de": "Deutsch",
            "es": "Spanisch",
        },
        topics={
            "payments": "Zahlungen und Auszahlungen",
            "billing": "Konto und Abrechnung",
            "developers": "Entwickler und API",
            "general": "Sonstiges",
        },
        outcomes={
            "answered": "angenommen",
            "voicemail": "Sprachnachricht",
            "transferred": "weitergeleitet",
            "callback": "Rückruf gewünscht",
            "ended": "beendet",
            "abandoned": "abgebrochen",
        },
    ),
    "es": WhisperWords(
        "es-MX",
        "Polly.Mia",
        known="Llamada de soporte de {name}, plan {tier}",
        unknown="Llamada de soporte de una persona no identificada",
        language="en {language}",
        topic="sobre {topic}",
        first_call="Es su primera llamada.",
        one_earlier="1 llamada anterior; la última: {outcome}.",
        earlier="{count} llamadas anteriores; la última: {outcome}.",
        one_earlier_plain="1 llamada anterior.",
        earlier_plain="{count} llamadas anteriores.",
        press_one="Oprima 1 para tomar la llamada.",
        no_key="No se oprimió ninguna tecla. Hasta luego.",
        tiers={"standard": "estándar", "paid": "de soporte de pago"},
        languages={
            "en": "inglés",
            "ja": "japonés",
            "fr": "francés",
            "de": "alemán",
            "es": "español",
        },
        topics={
            "payments": "pagos y depósitos",
            "billing": "cuenta y facturación",
            "developers": "desarrolladores y la API",
            "general": "otro asunto",
        },
        outcomes={
            "answered": "atendida",
            "voicemail": "mensaje de voz",
            "transferred": "transferida",
            "callback": "pidió que le llamaran",
            "ended": "terminada",
            "abandoned": "abandonada",
        },
    ),
}


def words_for(language: str | None) -> WhisperWords:
    """The whisper's words in a call's language (English when none or unknown)."""
    code = (language or "en").split("-")[0].lower()
    return WORDS.get(code, WORDS["en"])


def whisper_sentence(
    words: WhisperWords,
    *,
    account_name: str | None,
    tier: str | None,
    call_language: str | None,
    topic: str | None,
    earlier: int | None,
    last_outcome: str | None,
) -> str:
    """Who is calling, in `words`' language: None for facts not known."""
    parts = [
        words.known.format(name=account_name, tier=words.tiers.get(tier or "", tier or ""))
        if account_name is not None
        else words.unknown
    ]
    if call_language:
        name = words.languages.get(call_language, call_language)
        parts.append(words.language.format(language=name))
    if topic:
        parts.append(words.topic.format(topic=words.topics.get(topic, topic)))
    text = words.joiner.join(parts) + words.end
    if earlier is None:
        return text
    if earlier == 0:
        return f"{text} {words.first_call}"
    outcome = words.outcomes.get(last_outcome or "", last_outcome or "")
    if earlier == 1:
        more = words.one_earlier.format(outcome=outcome) if outcome else words.one_earlier_plain
    else:
        template = words.earlier if outcome else words.earlier_plain
        more = template.format(count=earlier, outcome=outcome)
    return f"{text} {more}"
