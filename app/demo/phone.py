"""Playing Twilio's part: signed webhook posts, and following the TwiML Switchboard answers.

A `CallerLeg` is one inbound call; a `SpecialistLeg` is the outbound leg that rings one
specialist inside a `<Dial>`. Both post exactly what Twilio would post (form fields and the
X-Twilio-Signature of PUBLIC_BASE_URL + path + query) to Switchboard's HTTP interface, so
every request goes through the signature check, the IVR engine, routing and the call log.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from xml.etree import ElementTree

import httpx
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 32
DIGIT = re.compile(r"[0-9]")


class DemoCallFailed(RuntimeError):
    """Switchboard answered a webhook with something Twilio would not accept."""


@dataclass
class Twilio:
    """Signs and posts webhooks to Switchboard as Twilio does."""

    http: httpx.AsyncClient
    public_base_url: str
    auth_token: str
    posts: int = 0

    def _path(self, url: str) -> str:
        if not url.startswith(self.public_base_url + "/"):
            raise DemoCallFailed(f"a callback URL outside PUBLIC_BASE_URL: {url}")
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    async def post(self, url: str, form: dict[str, str]) -> ElementTree.Element | None:
        """POST a signed form to one of Switchboard's URLs; the TwiML answer, or None (204)."""
        signature = RequestValidator(self.auth_token).compute_signature(url, form)
        response = await self.http.post(
            self._path(url), data=form, headers={"X-Twilio-Signature": str(signature)}
        )
        self.posts += 1
        if response.status_code == 204:
            return None
        if response.status_code != 200 or not response.headers.get("content-type", "").startswith(
            "text/xml"
        ):
            raise DemoCallFailed(
                f"{self._path(url)} answered {response.status_code}: {response.text[:300]}"
            )
        return ElementTree.fromstring(response.content)


def says(doc: ElementTree.Element) -> list[ElementTree.Element]:
    """Every <Say> of a TwiML document, in order."""
    return list(doc.iter("Say"))


@dataclass
class SpecialistLeg:
    """One specialist's phone ringing inside a <Dial>."""

    sid: str
    contact: str
    whisper_url: str
    status_url: str


@dataclass
class CallerLeg:
    """One inbound call, from the caller's side."""

    twilio: Twilio
    sid: str
    from_number: str
    to_number: str
    doc: ElementTree.Element | None = None
    sequence: int = 0
    heard: list[str] = field(default_factory=list)

    def form(self, **extra: str) -> dict[str, str]:
        """The fields Twilio sends with every webhook of the call, plus extra ones."""
        return {
            "CallSid": self.sid,
            "AccountSid": ACCOUNT_SID,
            "From": self.from_number,
            "To": self.to_number,
            "Caller": self.from_number,
            "Called": self.to_number,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
            **extra,
        }

    async def _follow(self, url: str, **extra: str) -> ElementTree.Element:
        doc = await self.twilio.post(url, self.form(**extra))
        if doc is None:
            raise DemoCallFailed(f"no TwiML for the caller from {url}")
        self.doc = doc
        self.heard += [say.text or "" for say in says(doc)]
        return doc

    async def dial_in(self) -> ElementTree.Element:
        """The call arrives: POST the number's Voice URL."""
        return await self._follow(
            self.twilio.public_base_url + "/twilio/voice", CallStatus="ringing"
        )

    def _top(self, tag: str) -> ElementTree.Element | None:
        return None if self.doc is None else self.doc.find(tag)

    @property
    def gather(self) -> ElementTree.Element | None:
        """The <Gather> waiting for the caller's input, if any."""
        return self._top("Gather")

    @property
    def holding(self) -> bool:
        """The caller waits in a queue (the answer loops back to /twilio/queue)."""
        redirect = self._top("Redirect")
        return redirect is not None and "/twilio/queue" in (redirect.text or "")

    @property
    def ringing(self) -> list[SpecialistLeg]:
        """The specialists a <Dial> rings (empty when the answer is not a ring)."""
        dial = self._top("Dial")
        if dial is None:
            return []
        legs = []
        for index, noun in enumerate(dial):
            url = noun.get("url")
            if url is None:
                continue
            legs.append(
                SpecialistLeg(
                    sid="CA"
                    + hashlib.md5(f"{self.sid}:{self.sequence}:{index}".encode()).hexdigest(),
                    contact=(noun.text or "").strip(),
                    whisper_url=url,
                    status_url=noun.get("statusCallback", ""),
                )
            )
        return legs

    @property
    def recording(self) -> bool:
        """The caller is invited to leave a voicemail."""
        return self._top("Record") is not None

    @property
    def hung_up(self) -> bool:
        """Switchboard ended the call (<Hangup>)."""
        return self._top("Hangup") is not None

    def menu_languages(self) -> dict[str, str]:
        """In a language menu: each offered language (say language prefix) and its key."""
        gather = self.gather
        if gather is None:
            return {}
        keys: dict[str, str] = {}
        for say in gather.iter("Say"):
            language = (say.get("language") or "").split("-")[0]
            digits = DIGIT.findall(say.text or "")
            if language and len(digits) == 1:
                keys.setdefault(language, digits[0])
        return keys if len(keys) > 1 else {}

    @property
    def takes_speech(self) -> bool:
        """The current <Gather> listens for words as well as keys."""
        gather = self.gather
        return gather is not None and "speech" in (gather.get("input") or "")

    async def press(self, digits: str) -> ElementTree.Element:
        """Key digits into the current <Gather> (Twilio leaves out the finishing #)."""
        gather = self.gather
        if gather is None:
            raise DemoCallFailed("pressed a key with no <Gather> listening")
        return await self._follow(gather.get("action", ""), Digits=digits.rstrip("#"))

    async def say(self, words: str, confidence: float = 0.87) -> ElementTree.Element:
        """Speak into the current <Gather>."""
        gather = self.gather
        if gather is None:
            raise DemoCallFailed("spoke with no <Gather> listening")
        return await self._follow(
            gather.get("action", ""), SpeechResult=words, Confidence=f"{confidence:.2f}"
        )

    async def wait(self) -> ElementTree.Element:
        """No input (or the hold music ends): Twilio follows the <Redirect>."""
        redirect = self._top("Redirect")
        if redirect is None:
            raise DemoCallFailed("waited with nothing to follow")
        return await self._follow(redirect.text or "")

    async def dial_ended(self, status: str, **extra: str) -> ElementTree.Element:
        """The <Dial> ended (DialCallStatus) with the caller still on the line."""
        dial = self._top("Dial")
        if dial is None:
            raise DemoCallFailed("a dial ended with no <Dial>")
        self.sequence += 1
        return await self._follow(dial.get("action", ""), DialCallStatus=status, **extra)

    async def leave_voicemail(self, recording_sid: str, seconds: int, words: str) -> None:
        """Record a message: the <Record> action, then the recording and transcription."""
        record = self._top("Record")
        if record is None:
            raise DemoCallFailed("left a voicemail with no <Record>")
        url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording_sid}"
        status_url = record.get("recordingStatusCallback")
        transcribe_url = record.get("transcribeCallback")
        await self._follow(
            record.get("action", ""), RecordingUrl=url, RecordingDuration=str(seconds)
        )
        if status_url:
            await self.twilio.post(
                status_url,
                self.form(
                    RecordingSid=recording_sid,
                    RecordingUrl=url,
                    RecordingStatus="completed",
                    RecordingDuration=str(seconds),
                ),
            )
        if transcribe_url:
            await self.twilio.post(
                transcribe_url,
                self.form(
                    RecordingSid=recording_sid,
                    RecordingUrl=url,
                    TranscriptionStatus="completed",
                    TranscriptionText=words,
                ),
            )

    async def ended(self, seconds: int) -> None:
        """The call is over (either side hung up): the status callback."""
        self.sequence += 1
        await self.twilio.post(
            self.twilio.public_base_url + "/twilio/status",
            self.form(
                CallStatus="completed",
                CallDuration=str(seconds),
                SequenceNumber=str(self.sequence),
            ),
        )


async def pick_up(twilio: Twilio, caller: CallerLeg, leg: SpecialistLeg, *, accept: bool) -> bool:
    """A specialist answers their phone, hears the whisper and presses 1 (or 2 to decline)."""
    form = {
        "CallSid": leg.sid,
        "ParentCallSid": caller.sid,
        "AccountSid": ACCOUNT_SID,
        "From": caller.from_number,
        "To": leg.contact,
        "CallStatus": "in-progress",
        "Direction": "outbound-dial",
    }
    whisper = await twilio.post(leg.whisper_url, form)
    gather = None if whisper is None else whisper.find("Gather")
    if gather is None:
        raise DemoCallFailed("the whisper has no <Gather> for the specialist's key")
    answer = await twilio.post(gather.get("action", ""), {**form, "Digits": "1" if accept else "2"})
    return answer is not None and answer.find("Hangup") is None


async def leg_over(
    twilio: Twilio, caller: CallerLeg, leg: SpecialistLeg, status: str, seconds: int = 0
) -> None:
    """The status callback of a specialist's leg that ended."""
    if not leg.status_url:
        return
    await twilio.post(
        leg.status_url,
        {
            "CallSid": leg.sid,
            "ParentCallSid": caller.sid,
            "AccountSid": ACCOUNT_SID,
            "From": caller.from_number,
            "To": leg.contact,
            "CallStatus": status,
            "CallDuration": str(seconds),
            "Direction": "outbound-dial",
        },
    )
