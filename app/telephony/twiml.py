"""TwiML for the engine's actions, built with twilio's VoiceResponse (escaping included)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fastapi import Response
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from app.core.phone import contact_kind
from app.ivr import Gather as GatherAction
from app.ivr import Play, Prompt, PromptItem, Record, Transfer
from app.telephony.urls import LEG_EVENTS

TWIML_MEDIA_TYPE = "text/xml"
_INPUTS = {"digits": "dtmf", "speech": "speech", "both": "dtmf speech"}


def xml_response(xml: str) -> Response:
    """An HTTP response carrying TwiML."""
    return Response(content=xml, media_type=TWIML_MEDIA_TYPE)


def speak(verb: VoiceResponse | Gather, prompts: Iterable[PromptItem]) -> None:
    """Add <Say>/<Play> for prompts, each <Say> with its voice and language."""
    for item in prompts:
        if isinstance(item, Play):
            verb.play(item.url)
        elif isinstance(item, Prompt) and item.text.strip():
            verb.say(item.text, voice=item.voice, language=item.say_language)


def gather(prompts: Sequence[PromptItem], action: GatherAction, url: str) -> VoiceResponse:
    """Prompts inside a <Gather>; no input falls through to a <Redirect> to the same URL."""
    response = VoiceResponse()
    wants_speech = action.input in ("speech", "both")
    verb = response.gather(
        input=_INPUTS[action.input],
        action=url,
        method="POST",
        timeout=action.timeout,
        num_digits=action.num_digits,
        finish_on_key="" if action.finish_on_key is None else action.finish_on_key,
        language=action.speech_language if wants_speech else None,
        hints=", ".join(action.hints) if wants_speech and action.hints else None,
    )
    speak(verb, prompts)
    response.redirect(url, method="POST")
    return response


def record(
    prompts: Sequence[PromptItem],
    action: Record,
    *,
    url: str,
    recording_url: str,
    transcription_url: str,
) -> VoiceResponse:
    """A voicemail: the invitation, then <Record> with transcription and callbacks.

    Twilio skips the action of an empty recording, so a <Redirect> follows it.
    """
    response = VoiceResponse()
    speak(response, prompts)
    response.record(
        action=url,
        method="POST",
        max_length=action.max_length,
        play_beep=True,
        finish_on_key="#",
        transcribe=action.transcribe,
        transcribe_callback=transcription_url if action.transcribe else None,
        recording_status_callback=recording_url,
        recording_status_callback_method="POST",
    )
    response.redirect(url, method="POST")
    return response


def transfer(prompts: Sequence[PromptItem], action: Transfer, url: str) -> VoiceResponse:
    """Put the caller through to an external number."""
    response = VoiceResponse()
    speak(response, prompts)
    dial = response.dial(action=url, method="POST")
    dial.number(action.number)
    return response


def hangup(prompts: Sequence[PromptItem]) -> VoiceResponse:
    """Say what is left to say and end the call."""
    response = VoiceResponse()
    speak(response, prompts)
    response.hangup()
    return response


@dataclass(frozen=True)
class Leg:
    """One specialist to ring: their contact and the URLs of their leg."""

    contact: str
    whisper_url: str
    status_url: str


def ring(
    prompts: Sequence[PromptItem], legs: Sequence[Leg], *, timeout: int, url: str
) -> VoiceResponse:
    """One <Dial> ringing every leg at once; the first to accept the whisper is connected."""
    response = VoiceResponse()
    speak(response, prompts)
    dial = response.dial(action=url, method="POST", timeout=timeout)
    for leg in legs:
        _add_leg(dial, leg)
    return response


def _add_leg(dial: Dial, leg: Leg) -> None:
    common = {
        "url": leg.whisper_url,
        "method": "POST",
        "status_callback": leg.status_url,
        "status_callback_event": LEG_EVENTS,
        "status_callback_method": "POST",
    }
    kind = contact_kind(leg.contact)
    if kind == "number":
        dial.number(leg.contact, **common)
    elif kind == "client":
        dial.client(leg.contact.removeprefix("client:"), **common)
    elif kind == "sip":
        dial.sip(leg.contact, **common)


def hold(
    prompts: Sequence[PromptItem],
    *,
    url: str,
    callback_key: str | None,
    music_url: str,
    pause_seconds: int,
) -> VoiceResponse:
    """A queued caller's hold loop: announcements and music, then back to `url` to check.

    With a callback offer, all of it plays inside a one-key <Gather> posting to `url`, so
    the key can be pressed at any time.
    """
    response = VoiceResponse()
    target: VoiceResponse | Gather = response
    if callback_key is not None:
        target = response.gather(
            input="dtmf", num_digits=1, timeout=1, action=url, method="POST", finish_on_key=""
        )
    speak(target, prompts)
    if music_url:
        target.play(music_url)
    else:
        target.pause(length=pause_seconds)
    response.redirect(url, method="POST")
    return response


def whisper(
    text: str,
    *,
    answer_url: str,
    no_key_text: str,
    voice: str = "Polly.Joanna",
    language: str = "en-US",
) -> VoiceResponse:
    """What a specialist hears on picking up: who is calling; 1 accepts, nothing hangs up."""
    response = VoiceResponse()
    verb = response.gather(input="dtmf", num_digits=1, timeout=8, action=answer_url, method="POST")
    verb.say(text, voice=voice, language=language)
    response.say(no_key_text, voice=voice, language=language)
    response.hangup()
    return response


def connect_leg() -> VoiceResponse:
    """An empty answer to the whisper: Twilio bridges the specialist to the caller."""
    return VoiceResponse()
