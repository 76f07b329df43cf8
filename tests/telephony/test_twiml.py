"""TwiML rendering: schema-valid in every language, escaping, contacts, the path diff."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st
from twilio.twiml.voice_response import VoiceResponse

from app.ivr import Gather, PathEntry, Play, Prompt, Record, Transfer
from app.ivr.state import MAX_PATH
from app.telephony import fallback, twiml
from app.telephony.driver import appended
from app.telephony.urls import LEG_EVENTS, CallbackUrls
from tests.telephony.twilio import twiml_errors

URLS = CallbackUrls("https://switchboard.example.com")
HELLO = (
    Prompt("Hello & <welcome>", "en", "Polly.Joanna", "en-US"),
    Play("https://example.com/a.mp3?x=1&y=2"),
)


def _valid(xml: str) -> None:
    problems = twiml_errors(xml.encode())
    assert not problems, (problems, xml)


def test_the_fallback_is_valid_in_every_language_with_and_without_a_number() -> None:
    for language in (*fallback.WORDS, "pt-BR", None):
        for number in (None, "+14155550199"):
            xml = fallback.apology(URLS, fallback_number=number, language=language)
            _valid(xml)
            assert ("<Dial>" in xml) == (number is not None)
            assert ("<Record" in xml) == (number is None)
        _valid(fallback.goodbye(language))
    assert fallback.words_for("pt-BR").say_language == "en-US"
    assert fallback.words_for("de").voice == "Polly.Vicki"


def test_gather_escapes_text_and_urls_and_keeps_attributes_twilio_knows() -> None:
    action = Gather("both", None, None, 7, "ja-JP", ("支払", "refund"))
    xml = str(twiml.gather(HELLO, action, URLS.gather(3, "ja", "topic")))
    _valid(xml)
    assert "Hello &amp; &lt;welcome&gt;" in xml
    assert 'finishOnKey=""' in xml and 'input="dtmf speech"' in xml
    assert 'language="ja-JP"' in xml and "numDigits" not in xml
    assert "gather?v=3&amp;lang=ja&amp;step=topic" in xml
    digits_only = str(twiml.gather(HELLO, Gather("digits", 1, "#", 5, "en-US"), "u"))
    _valid(digits_only)
    assert "language=" not in digits_only.split("<Say")[0]  # no speech, no speech language


def test_a_menu_written_once_carries_each_answers_own_url() -> None:
    """The menu's document is kept per prompts and step; every answer puts its own URL in
    both places, escaped for each."""
    action = Gather("digits", 1, "#", 5, "en-US")
    first = twiml.gather(HELLO, action, URLS.gather(1, "en", "topic"))
    second = twiml.gather(list(HELLO), action, 'https://e.com/g?v=2&a="b"')
    assert first == twiml._gather(HELLO, action, URLS.gather(1, "en", "topic"))
    assert second == twiml._gather(HELLO, action, 'https://e.com/g?v=2&a="b"')
    assert 'action="https://e.com/g?v=2&amp;a=&quot;b&quot;"' in second
    assert '<Redirect method="POST">https://e.com/g?v=2&amp;a="b"</Redirect>' in second
    # A prompt holding the template's own marker is written out each time instead.
    odd = (Prompt("a\x00b", "en", "Polly.Joanna", "en-US"),)
    assert twiml.gather(odd, action, "u") == twiml._gather(odd, action, "u")


def test_record_transfer_hangup_and_ring_are_valid() -> None:
    _valid(
        str(
            twiml.record(
                HELLO,
                Record(60, True),
                url=URLS.recorded(2, "en"),
                recording_url=URLS.recording(),
                transcription_url=URLS.transcription(),
            )
        )
    )
    _valid(str(twiml.transfer(HELLO, Transfer("+442071838750"), URLS.transfer(2, "en"))))
    _valid(str(twiml.hangup(HELLO)))
    legs = [
        twiml.Leg(contact, URLS.whisper("CA1", i), URLS.leg("CA1", i))
        for i, contact in enumerate(
            ["+14155550100", "client:alice", "sip:bob@pbx.example.com", "not-a-contact"]
        )
    ]
    xml = str(twiml.ring(HELLO, legs, timeout=20, url=URLS.dial(2, "en")))
    _valid(xml)
    assert xml.count("statusCallbackEvent=") == 3  # the bad contact is left out
    _valid(str(twiml.whisper("Call from A & B.", answer_url="u", no_key_text="Bye.")))
    _valid(str(twiml.connect_leg()))


def test_contact_kinds() -> None:
    assert twiml.contact_kind("+14155550100") == "number"
    assert twiml.contact_kind("client:alice") == "client"
    assert twiml.contact_kind("sip:alice@example.com") == "sip"
    for bad in ("", "client:", "4155550100", "+1 415", "mailto:x"):
        assert twiml.contact_kind(bad) is None


entries = st.builds(
    PathEntry,
    step=st.sampled_from(["a", "b", "c"]),
    input=st.one_of(st.none(), st.sampled_from(["1", "2", "no input"])),
    at=st.sampled_from(["t1", "t2"]),
)


@given(st.lists(entries, max_size=60), st.lists(entries, max_size=40))
def test_the_path_diff_finds_what_the_engine_appended(
    old: list[PathEntry], added: list[PathEntry]
) -> None:
    assert tuple(appended(old, (*old, *added))) == tuple(added)


@given(st.integers(0, 2 * MAX_PATH), st.integers(0, 40))
def test_the_path_diff_survives_the_engines_truncation(before: int, after: int) -> None:
    # Real entries carry the time of their webhook, so a long call's entries differ.
    path = [PathEntry("menu", "no input", str(i)) for i in range(before + after)]
    old = tuple(path[:before])[-MAX_PATH:]
    new = tuple(path)[-MAX_PATH:]
    assert tuple(appended(old, new)) == tuple(path[before:])[-MAX_PATH:]


def test_the_bundled_schema_copy_rejects_what_twilio_rejects() -> None:
    from tests.telephony.twilio import _vendored_checker

    check = _vendored_checker()
    assert check(b'<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>') == []
    assert check(b"<Response><Bogus/></Response>")
    assert check(b"<Response><Gather><Dial>+14155550100</Dial></Gather></Response>")
    assert check(b"<Response><Say>unclosed</Response>")


def _tree(xml: str) -> tuple[object, ...]:
    def walk(e: ET.Element) -> tuple[object, ...]:
        return (e.tag, dict(e.attrib), e.text or "", [walk(c) for c in e])

    return walk(ET.fromstring(xml.encode()))


@given(st.text(min_size=1), st.text())
def test_text_twiml_says_what_twilios_voice_response_says(said: str, url: str) -> None:
    """The string builder against the twilio library's ElementTree one, as the oracle."""
    said = "".join(c for c in said if c.isprintable() or c in "\n\t") or "x"
    url = "".join(c for c in url if c.isprintable())
    prompts = (Prompt(said, "en", "Polly.Joanna", "en-US"), Play(f"https://e.com/{url}"))
    action = Gather("both", 1, "#", 5, "en-US", ("a & b",))
    oracle = VoiceResponse()
    verb = oracle.gather(
        input="dtmf speech",
        action=url,
        method="POST",
        timeout=5,
        num_digits=1,
        finish_on_key="#",
        language="en-US",
        hints="a & b",
    )
    if said.strip():
        verb.say(said, voice="Polly.Joanna", language="en-US")
    verb.play(f"https://e.com/{url}")
    oracle.redirect(url, method="POST")
    assert _tree(twiml.gather(prompts, action, url)) == _tree(str(oracle))
    leg = twiml.Leg("+14155550100", f"w{url}", f"s{url}")
    ring = VoiceResponse()
    if said.strip():
        ring.say(said, voice="Polly.Joanna", language="en-US")
    ring.play(f"https://e.com/{url}")
    dial = ring.dial(action=url, method="POST", timeout=20)
    dial.number(
        "+14155550100",
        url=f"w{url}",
        method="POST",
        status_callback=f"s{url}",
        status_callback_event=LEG_EVENTS,
        status_callback_method="POST",
    )
    assert _tree(twiml.ring(prompts, [leg], timeout=20, url=url)) == _tree(str(ring))


_PARAMS = st.sampled_from(["v", "lang", "step", "call", "attempt", "ref"])


@given(st.dictionaries(_PARAMS, st.one_of(st.none(), st.integers(), st.text(max_size=12))))
def test_callback_urls_encode_their_query_as_urlencode_does(
    params: dict[str, str | int | None],
) -> None:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    expected = "https://switchboard.example.com/twilio/gather" + (f"?{query}" if query else "")
    assert URLS.url("gather", **params) == expected
