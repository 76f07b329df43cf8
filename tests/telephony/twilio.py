"""Driving Switchboard as Twilio would: signed form posts, following the TwiML it returns.

Every TwiML response is checked against Twilio's voice schema: with the reference checker
from the shared folder beside the checkout (`<repo>/../shared/twiml-xsd/validate.py`) when
it is there, as in CI, else against the copy of the same schema in `tests/twiml_xsd/`.
A missing schema fails the test.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import httpx
from lxml import etree
from twilio.request_validator import RequestValidator

from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL

# tests/telephony/twilio.py -> parents[2] is the checkout; shared/ sits beside it.
SORRY = "We're sorry, something went wrong on our side."  # the apology's first words
CHECKOUT = Path(__file__).resolve().parents[2]
XSD_VALIDATOR = (CHECKOUT / ".." / "shared" / "twiml-xsd").resolve()
VENDORED_SCHEMA = CHECKOUT / "tests" / "twiml_xsd" / "twiml_v20100401_twilioRealtimeCallSchema.xsd"
_errors: Callable[[bytes], list[str]] | None = None


def _reference_checker() -> Callable[[bytes], list[str]] | None:
    path = XSD_VALIDATOR / "validate.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location("twiml_xsd_validate", path)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    checker: Callable[[bytes], list[str]] = module.errors
    return checker


def _vendored_checker() -> Callable[[bytes], list[str]]:
    if not VENDORED_SCHEMA.is_file():
        raise AssertionError(f"the TwiML schema is missing: {VENDORED_SCHEMA}")
    parser = etree.XMLParser(no_network=True)
    schema = etree.XMLSchema(etree.parse(str(VENDORED_SCHEMA), parser))

    def errors(xml: bytes) -> list[str]:
        try:
            doc = etree.fromstring(xml, etree.XMLParser(no_network=True, resolve_entities=False))
        except etree.XMLSyntaxError as exc:
            return [f"not well-formed XML: {exc}"]
        if schema.validate(doc):
            return []
        return [f"line {e.line}: {e.message}" for e in schema.error_log]

    return errors


def twiml_errors(xml: bytes) -> list[str]:
    """Schema errors of a TwiML document (empty when valid)."""
    global _errors
    if _errors is None:
        _errors = _reference_checker() or _vendored_checker()
    return _errors(xml)


def parse_twiml(response: httpx.Response) -> ElementTree.Element:
    """Check a webhook answer is schema-valid TwiML served as text/xml, and parse it."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml"), response.headers
    problems = twiml_errors(response.content)
    assert not problems, f"invalid TwiML: {problems}\n{response.text}"
    return ElementTree.fromstring(response.content)


def sign(url: str, params: Mapping[str, str], token: str = AUTH_TOKEN) -> str:
    """Twilio's X-Twilio-Signature for a URL and form."""
    return str(RequestValidator(token).compute_signature(url, dict(params)))


def local_path(url: str) -> str:
    """The path and query of one of Switchboard's absolute callback URLs."""
    assert url.startswith(PUBLIC_BASE_URL + "/twilio/"), url
    return url[len(PUBLIC_BASE_URL) :]


def query_of(url: str) -> dict[str, str]:
    """The query parameters of a URL."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def post(
    client: httpx.AsyncClient,
    path_and_query: str,
    params: Mapping[str, str],
    *,
    base: str = PUBLIC_BASE_URL,
    token: str = AUTH_TOKEN,
) -> httpx.Response:
    """A signed form post as Twilio sends it."""
    signature = sign(base + path_and_query, params, token)
    return await client.post(
        path_and_query, data=dict(params), headers={"X-Twilio-Signature": signature}
    )


def says(doc: ElementTree.Element) -> list[str]:
    """Every <Say> text in document order (inside <Gather> too)."""
    return [el.text or "" for el in doc.iter("Say")]


def say_languages(doc: ElementTree.Element) -> set[str]:
    """The language attribute of every <Say>."""
    return {el.get("language", "") for el in doc.iter("Say")}


def verbs(doc: ElementTree.Element) -> list[str]:
    """The top-level verbs of a response."""
    return [child.tag for child in doc]


class Caller:
    """One caller's leg: starts a call and follows each <Gather>, <Redirect> and action."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        sid: str = "CA00000000000000000000000000000001",
        from_number: str = "+14155550100",
        to_number: str = "+18005550100",
    ) -> None:
        self.client = client
        self.sid = sid
        self.from_number = from_number
        self.to_number = to_number
        self.doc: ElementTree.Element | None = None
        self.raw = b""  # the last TwiML as sent
        self.heard: list[str] = []

    def form(self, **extra: str) -> dict[str, str]:
        """The fields Twilio sends with every webhook of this call, plus extra ones."""
        base = {
            "CallSid": self.sid,
            "AccountSid": "AC00000000000000000000000000000000",
            "From": self.from_number,
            "To": self.to_number,
            "Caller": self.from_number,
            "Called": self.to_number,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        base.update(extra)
        return base

    async def _post(self, url: str, **extra: str) -> ElementTree.Element:
        response = await post(self.client, local_path(url), self.form(**extra))
        self.doc = parse_twiml(response)
        self.raw = response.content
        self.heard += says(self.doc)
        return self.doc

    async def dial_in(self) -> ElementTree.Element:
        """The first webhook: POST /twilio/voice."""
        return await self._post(PUBLIC_BASE_URL + "/twilio/voice", CallStatus="ringing")

    def _one(self, tag: str) -> ElementTree.Element:
        assert self.doc is not None
        found = self.doc.find(tag)
        assert found is not None, f"no <{tag}> in {ElementTree.tostring(self.doc).decode()}"
        return found

    @property
    def gather(self) -> ElementTree.Element:
        """The <Gather> of the current response."""
        return self._one("Gather")

    async def press(self, digits: str) -> ElementTree.Element:
        """Key digits into the current <Gather>."""
        return await self._post(self.gather.get("action", ""), Digits=digits)

    async def say(self, words: str, confidence: str = "0.9") -> ElementTree.Element:
        """Speak into the current <Gather>."""
        return await self._post(
            self.gather.get("action", ""), SpeechResult=words, Confidence=confidence
        )

    async def stay_silent(self) -> ElementTree.Element:
        """Let the <Gather> time out: Twilio follows the <Redirect> after it."""
        redirect = self._one("Redirect")
        return await self._post(redirect.text or "")

    async def dial_ends(self, status: str, **extra: str) -> ElementTree.Element:
        """The <Dial> ends with a DialCallStatus (the caller's own leg is still up)."""
        return await self._post(self._one("Dial").get("action", ""), DialCallStatus=status, **extra)

    async def leave_voicemail(self, url: str, seconds: str = "12") -> ElementTree.Element:
        """The caller records a message; Twilio posts the <Record action>."""
        return await self._post(
            self._one("Record").get("action", ""), RecordingUrl=url, RecordingDuration=seconds
        )
