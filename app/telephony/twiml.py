"""TwiML for the engine's actions, written as text.

Every call's webhooks answer with one of these documents, so they are built as strings
(escaped here) rather than through twilio's `VoiceResponse` (an ElementTree serialised on
every answer: ~100 µs of a webhook's CPU, bench/RESULTS.md, issue 17). The output is the
same TwiML: the verbs and attributes Twilio documents, in the camelCase it expects, checked
against Twilio's XSD by tests/telephony/test_twiml.py. Answers that are not on every call's
path (transfers, call-backs, the fallback) keep using `VoiceResponse`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from fastapi import Response

from app.core.phone import contact_kind
from app.ivr import Gather as GatherAction
from app.ivr import Play, Prompt, PromptItem, Record, Transfer
from app.telephony.urls import LEG_EVENTS

TWIML_MEDIA_TYPE = "text/xml"
_INPUTS = {"digits": "dtmf", "speech": "speech", "both": "dtmf speech"}
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\n": "&#10;",
        "\r": "&#13;",
        "\t": "&#09;",
    }
)

Attributes = dict[str, str | int | bool | None]


def _text(value: str) -> str:
    return value.translate(_TEXT)


def _attributes(attributes: Attributes) -> str:
    """` name="value"` for each attribute that has a value (booleans as true/false)."""
    out = []
    for name, value in attributes.items():
        if value is None:
            continue
        shown = ("true" if value else "false") if isinstance(value, bool) else str(value)
        out.append(f' {name}="{shown.translate(_ATTRIBUTE)}"')
    return "".join(out)


def _verb(name: str, attributes: Attributes | None = None, inner: str | None = None) -> str:
    shown = _attributes(attributes) if attributes else ""
    if inner is None:
        return f"<{name}{shown} />"
    return f"<{name}{shown}>{inner}</{name}>"


def _response(*verbs: str) -> str:
    return f"{_DECLARATION}<Response>{''.join(verbs)}</Response>"


def xml_response(xml: str) -> Response:
    """An HTTP response carrying TwiML."""
    return Response(content=xml, media_type=TWIML_MEDIA_TYPE)


def speak(prompts: Iterable[PromptItem]) -> str:
    """<Say>/<Play> for prompts, each <Say> with its voice and language.

    A flow's prompts are few and fixed (a step's text in each language, a greeting with the
    caller's name), and every call hears them: each sequence is written once and kept
    (the engine's prompts are frozen, so a sequence is its own key).
    """
    return _spoken(tuple(prompts))


@lru_cache(maxsize=1024)
def _spoken(prompts: tuple[PromptItem, ...]) -> str:
    out = []
    for item in prompts:
        if isinstance(item, Play):
            out.append(_verb("Play", None, _text(item.url)))
        elif isinstance(item, Prompt) and item.text.strip():
            attributes: Attributes = {"language": item.say_language, "voice": item.voice}
            out.append(_verb("Say", attributes, _text(item.text)))
    return "".join(out)


def _redirect(url: str) -> str:
    return _verb("Redirect", {"method": "POST"}, _text(url))


def gather(prompts: Sequence[PromptItem], action: GatherAction, url: str) -> str:
    """Prompts inside a <Gather>; no input falls through to a <Redirect> to the same URL.

    The document but its URL depends on the prompts and the step alone: it is written once
    per menu and language (`_gather_around`) and the URL put in its two places.
    """
    around = _gather_around(tuple(prompts), action)
    if around is None:
        return _gather(prompts, action, url)
    head, middle, tail = around
    return f"{head}{url.translate(_ATTRIBUTE)}{middle}{_text(url)}{tail}"


_URL_SLOT = "\x00"  # never in a URL, and left alone by both escapes


@lru_cache(maxsize=1024)
def _gather_around(
    prompts: tuple[PromptItem, ...], action: GatherAction
) -> tuple[str, str, str] | None:
    """`_gather`'s document split where its URL goes (None: a prompt holds the marker)."""
    parts = _gather(prompts, action, _URL_SLOT).split(_URL_SLOT)
    if len(parts) != 3:
        return None
    head, middle, tail = parts
    return head, middle, tail


def _gather(prompts: Sequence[PromptItem], action: GatherAction, url: str) -> str:
    wants_speech = action.input in ("speech", "both")
    attributes: Attributes = {
        "action": url,
        "finishOnKey": "" if action.finish_on_key is None else action.finish_on_key,
        "hints": ", ".join(action.hints) if wants_speech and action.hints else None,
        "input": _INPUTS[action.input],
        "language": action.speech_language if wants_speech else None,
        "method": "POST",
        "numDigits": action.num_digits,
        "timeout": action.timeout,
    }
    return _response(_verb("Gather", attributes, speak(prompts)), _redirect(url))


def record(
    prompts: Sequence[PromptItem],
    action: Record,
    *,
    url: str,
    recording_url: str,
    transcription_url: str,
) -> str:
    """A voicemail: the invitation, then <Record> with transcription and callbacks.

    Twilio skips the action of an empty recording, so a <Redirect> follows it.
    """
    attributes: Attributes = {
        "action": url,
        "finishOnKey": "#",
        "maxLength": action.max_length,
        "method": "POST",
        "playBeep": True,
        "recordingStatusCallback": recording_url,
        "recordingStatusCallbackMethod": "POST",
        "transcribe": action.transcribe,
        "transcribeCallback": transcription_url if action.transcribe else None,
    }
    return _response(speak(prompts), _verb("Record", attributes), _redirect(url))


def transfer(prompts: Sequence[PromptItem], action: Transfer, url: str) -> str:
    """Put the caller through to an external number."""
    number = _verb("Number", None, _text(action.number))
    return _response(speak(prompts), _verb("Dial", {"action": url, "method": "POST"}, number))


def hangup(prompts: Sequence[PromptItem]) -> str:
    """Say what is left to say and end the call."""
    return _response(speak(prompts), _verb("Hangup"))


@dataclass(frozen=True)
class Leg:
    """One specialist to ring: their contact and the URLs of their leg."""

    contact: str
    whisper_url: str
    status_url: str


def ring(prompts: Sequence[PromptItem], legs: Sequence[Leg], *, timeout: int, url: str) -> str:
    """One <Dial> ringing every leg at once; the first to accept the whisper is connected."""
    dial: Attributes = {"action": url, "method": "POST", "timeout": timeout}
    inner = "".join(_leg(leg) for leg in legs)
    return _response(speak(prompts), _verb("Dial", dial, inner))


def _leg(leg: Leg) -> str:
    """A <Number>, <Client> or <Sip> noun for the leg; nothing for a contact Twilio cannot ring."""
    common: Attributes = {
        "method": "POST",
        "statusCallback": leg.status_url,
        "statusCallbackEvent": LEG_EVENTS,
        "statusCallbackMethod": "POST",
        "url": leg.whisper_url,
    }
    kind = contact_kind(leg.contact)
    if kind == "number":
        return _verb("Number", common, _text(leg.contact))
    if kind == "client":
        return _verb("Client", common, _text(leg.contact.removeprefix("client:")))
    if kind == "sip":
        return _verb("Sip", common, _text(leg.contact))
    return ""


def hold(
    prompts: Sequence[PromptItem],
    *,
    url: str,
    callback_key: str | None,
    music_url: str,
    pause_seconds: int,
) -> str:
    """A queued caller's hold loop: announcements and music, then back to `url` to check.

    With a callback offer, all of it plays inside a one-key <Gather> posting to `url`, so
    the key can be pressed at any time.
    """
    music = (
        _verb("Play", None, _text(music_url))
        if music_url
        else _verb("Pause", {"length": pause_seconds})
    )
    inner = speak(prompts) + music
    if callback_key is not None:
        attributes: Attributes = {
            "action": url,
            "finishOnKey": "",
            "input": "dtmf",
            "method": "POST",
            "numDigits": 1,
            "timeout": 1,
        }
        inner = _verb("Gather", attributes, inner)
    return _response(inner, _redirect(url))


def whisper(
    text: str,
    *,
    answer_url: str,
    no_key_text: str,
    voice: str = "Polly.Joanna",
    language: str = "en-US",
) -> str:
    """What a specialist hears on picking up: who is calling; 1 accepts, nothing hangs up."""
    said: Attributes = {"language": language, "voice": voice}
    attributes: Attributes = {
        "action": answer_url,
        "input": "dtmf",
        "method": "POST",
        "numDigits": 1,
        "timeout": 8,
    }
    return _response(
        _verb("Gather", attributes, _verb("Say", said, _text(text))),
        _verb("Say", said, _text(no_key_text)),
        _verb("Hangup"),
    )


def connect_leg() -> str:
    """An empty answer to the whisper: Twilio bridges the specialist to the caller."""
    return _response()
