"""What a caller hears when answering a webhook failed: never touches the database.

A short apology in the call's language, then FALLBACK_NUMBER, or a voicemail on a
<Record> whose action answers without the database either.
"""

from __future__ import annotations

from dataclasses import dataclass

from twilio.twiml.voice_response import VoiceResponse

from app.ivr import Flow
from app.telephony.urls import CallbackUrls


@dataclass(frozen=True)
class Words:
    """The fallback's sentences in one language, and how to say them."""

    voice: str
    say_language: str
    sorry: str
    connecting: str
    leave_message: str
    thanks: str


WORDS: dict[str, Words] = {
    "en": Words(
        "Polly.Joanna",
        "en-US",
        "We're sorry, something went wrong on our side.",
        "Please hold while we put you through.",
        "Please leave your name, number and a short message after the tone.",
        "Thank you. We will call you back. Goodbye.",
    ),
    "ja": Words(
        "Polly.Mizuki",
        "ja-JP",
        "申し訳ありません。システムに問題が発生しました。",
        "担当者におつなぎします。少々お待ちください。",
        "発信音の後に、お名前、お電話番号、ご用件をお話しください。",
        "ありがとうございました。折り返しご連絡いたします。失礼いたします。",
    ),
    "fr": Words(
        "Polly.Celine",
        "fr-FR",
        "Nous sommes désolés, un problème technique est survenu.",
        "Veuillez patienter, nous vous mettons en relation.",
        "Veuillez laisser votre nom, votre numéro et un court message après le bip.",
        "Merci. Nous vous rappellerons. Au revoir.",
    ),
    "de": Words(
        "Polly.Vicki",
        "de-DE",
        "Es tut uns leid, bei uns ist ein technisches Problem aufgetreten.",
        "Bitte bleiben Sie dran, wir verbinden Sie.",
        "Bitte hinterlassen Sie nach dem Signalton Ihren Namen, Ihre Nummer und eine kurze "
        "Nachricht.",
        "Vielen Dank. Wir rufen Sie zurück. Auf Wiederhören.",
    ),
    "es": Words(
        "Polly.Mia",
        "es-MX",
        "Lo sentimos, tuvimos un problema técnico.",
        "Por favor, espere en la línea mientras le comunicamos.",
        "Por favor, deje su nombre, su número y un breve mensaje después de la señal.",
        "Gracias. Le devolveremos la llamada. Adiós.",
    ),
}
VOICEMAIL_SECONDS = 120


def words_for(language: str | None, flow: Flow | None = None) -> Words:
    """The fallback sentences for a language (English when unknown), in the flow's voice."""
    code = (language or (flow.default_language if flow else "en")).split("-")[0].lower()
    words = WORDS.get(code, WORDS["en"])
    if flow is not None and code in flow.languages and code in WORDS:
        voice = flow.languages[code]
        words = Words(
            voice.voice,
            voice.say_language,
            words.sorry,
            words.connecting,
            words.leave_message,
            words.thanks,
        )
    return words


def apology(
    urls: CallbackUrls,
    *,
    fallback_number: str | None,
    language: str | None,
    flow: Flow | None = None,
) -> str:
    """TwiML: apologise, then dial FALLBACK_NUMBER or take a voicemail."""
    words = words_for(language, flow)
    response = VoiceResponse()
    if fallback_number:
        text = f"{words.sorry} {words.connecting}"
        response.say(text, voice=words.voice, language=words.say_language)
        response.dial(fallback_number)
        return str(response)
    text = f"{words.sorry} {words.leave_message}"
    response.say(text, voice=words.voice, language=words.say_language)
    code = language or (flow.default_language if flow else "en")
    response.record(
        action=urls.fallback_recorded(code),
        method="POST",
        max_length=VOICEMAIL_SECONDS,
        play_beep=True,
        finish_on_key="#",
        # Twilio transcribes English only.
        transcribe=code.split("-")[0] == "en",
        transcribe_callback=urls.transcription() if code.split("-")[0] == "en" else None,
        recording_status_callback=urls.recording(),
        recording_status_callback_method="POST",
    )
    response.say(words.thanks, voice=words.voice, language=words.say_language)
    response.hangup()
    return str(response)


def goodbye(language: str | None, flow: Flow | None = None) -> str:
    """TwiML: thank the caller for the fallback voicemail and hang up."""
    words = words_for(language, flow)
    response = VoiceResponse()
    response.say(words.thanks, voice=words.voice, language=words.say_language)
    response.hangup()
    return str(response)
