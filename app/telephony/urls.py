"""The callback URLs Switchboard puts in its TwiML: absolute, under PUBLIC_BASE_URL/twilio/."""

from __future__ import annotations

import re
from urllib.parse import quote_plus

# Events asked for on each leg that rings a specialist.
LEG_EVENTS = "initiated ringing answered completed"

# What `urlencode` leaves as it is: a value made only of these goes in unquoted.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def _query_value(value: str | int) -> str:
    """`value` as `urlencode` writes it (`quote_plus`), without its cost for the usual
    value (a version number, a language code, a step id, a call SID)."""
    text = str(value)
    return text if _UNRESERVED.fullmatch(text) else quote_plus(text)


class CallbackUrls:
    """Builds `/twilio/...` URLs for a public base URL."""

    def __init__(self, public_base_url: str) -> None:
        self.base = public_base_url.rstrip("/")

    def url(self, path: str, **params: str | int | None) -> str:
        """`PUBLIC_BASE_URL/twilio/<path>?<params>` (None values left out)."""
        query = "&".join(
            f"{_query_value(k)}={_query_value(v)}" for k, v in params.items() if v is not None
        )
        return f"{self.base}/twilio/{path}" + (f"?{query}" if query else "")

    def gather(self, version: int, language: str, step: str) -> str:
        """Where a <Gather> posts the caller's input (and its no-input <Redirect> goes)."""
        return self.url("gather", v=version, lang=language, step=step)

    def dial(self, version: int, language: str) -> str:
        """The <Dial action> of a ringing batch."""
        return self.url("dial", v=version, lang=language)

    def queue(self, version: int, language: str) -> str:
        """A queued caller's hold loop: its <Redirect> and the callback key's <Gather>."""
        return self.url("queue", v=version, lang=language)

    def transfer(self, version: int, language: str) -> str:
        """The <Dial action> of a transfer to an external number."""
        return self.url("transfer", v=version, lang=language)

    def recorded(self, version: int, language: str) -> str:
        """The <Record action> of a voicemail."""
        return self.url("recorded", v=version, lang=language)

    def whisper(self, call_sid: str, attempt_id: int) -> str:
        """What a specialist hears on picking up (the <Number url>)."""
        return self.url("whisper", call=call_sid, attempt=attempt_id)

    def whisper_answer(self, call_sid: str, attempt_id: int) -> str:
        """Where the specialist's key press after the whisper goes."""
        return self.url("whisper/answer", call=call_sid, attempt=attempt_id)

    def leg(self, call_sid: str, attempt_id: int) -> str:
        """Status callbacks of the leg ringing one specialist."""
        return self.url("leg", call=call_sid, attempt=attempt_id)

    def recording(self) -> str:
        """recordingStatusCallback of voicemails."""
        return self.url("recording")

    def transcription(self) -> str:
        """transcribeCallback of voicemails."""
        return self.url("transcription")

    def fallback_recorded(self, language: str) -> str:
        """The <Record action> of the fallback voicemail (answers without the database)."""
        return self.url("fallback/recorded", lang=language)

    def outbound(self, hook: str, call_id: int) -> str:
        """The webhooks of an outbound callback: whisper, connect, dialed, status."""
        return self.url(f"outbound/{hook}", ref=call_id)
