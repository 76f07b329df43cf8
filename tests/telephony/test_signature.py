"""Every /twilio/* request must carry Twilio's signature for PUBLIC_BASE_URL + path + query."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.datastructures import FormData
from twilio.request_validator import HMAC_SHA1, HMAC_SHA256, RequestValidator

from app.config import Settings
from app.core.clock import FixedClock
from app.core.db import Database
from app.main import create_app
from app.models.call import Call
from app.telephony.signature import signature_valid, signed_url
from tests.conftest import PUBLIC_BASE_URL
from tests.telephony.twilio import Caller, parse_twiml, post, sign

# Twilio's published example (https://www.twilio.com/docs/usage/security).
VECTOR_TOKEN = "12345"
VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}


def test_twilios_published_vectors() -> None:
    assert sign(VECTOR_URL, VECTOR_PARAMS, VECTOR_TOKEN) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    assert sign(with_port, VECTOR_PARAMS, VECTOR_TOKEN) == "kvajT1Ptam85bY51eRf/AJRuM3w="
    for signature in ("RSOYDt4T1cUTdK1PDd93/VVr8B8=", "kvajT1Ptam85bY51eRf/AJRuM3w="):
        # Twilio may sign either form of the URL: both are accepted for both.
        assert signature_valid(VECTOR_TOKEN, VECTOR_URL, VECTOR_PARAMS, signature)
        assert signature_valid(VECTOR_TOKEN, with_port, VECTOR_PARAMS, signature)
    assert not signature_valid(
        VECTOR_TOKEN,
        VECTOR_URL,
        {**VECTOR_PARAMS, "Digits": "1235"},
        "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
    )
    assert not signature_valid("", VECTOR_URL, VECTOR_PARAMS, sign(VECTOR_URL, VECTOR_PARAMS, ""))


def test_signed_url_is_public_base_plus_path_and_raw_query() -> None:
    assert signed_url("https://mycompany.com", "/myapp.php", "foo=1&bar=2") == VECTOR_URL
    assert signed_url("https://x.example/", "/twilio/voice", "") == "https://x.example/twilio/voice"


@pytest.fixture
async def vector_app(settings: Settings, clock: FixedClock) -> AsyncIterator[FastAPI]:
    """The app configured with the published vector's token and host."""
    changed = settings.model_copy(
        update={"twilio_auth_token": VECTOR_TOKEN, "public_base_url": "https://mycompany.com"}
    )
    application = create_app(changed, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


async def test_the_vector_passes_behind_a_tls_proxy(vector_app: FastAPI) -> None:
    # The proxy forwards to http://127.0.0.1:8000; the check still uses PUBLIC_BASE_URL.
    transport = httpx.ASGITransport(app=vector_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        params = {**VECTOR_PARAMS, "CallStatus": "ringing"}
        for url in (
            "https://mycompany.com/twilio/status?foo=1&bar=2",
            "https://mycompany.com:443/twilio/status?foo=1&bar=2",
        ):
            answer = await http.post(
                "/twilio/status?foo=1&bar=2",
                data=params,
                headers={"X-Twilio-Signature": sign(url, params, VECTOR_TOKEN)},
            )
            assert answer.status_code == 204, answer.text
        # Signed for the URL the app sees, not the public one: refused.
        wrong = sign("http://127.0.0.1:8000/twilio/status?foo=1&bar=2", params, VECTOR_TOKEN)
        answer = await http.post(
            "/twilio/status?foo=1&bar=2", data=params, headers={"X-Twilio-Signature": wrong}
        )
        assert answer.status_code == 403


async def _calls(db: Database) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Call)) or 0)


@pytest.mark.parametrize(
    "path",
    ["/twilio/voice", "/twilio/gather?v=1", "/twilio/status", "/twilio/dial?v=1", "/twilio/leg"],
)
async def test_a_bad_signature_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, db: Database, path: str
) -> None:
    form = Caller(client).form()
    cases = [
        {},  # no signature
        {"X-Twilio-Signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="},
        {"X-Twilio-Signature": sign(PUBLIC_BASE_URL + path, form, "another-token")},
        # Signed without the query string the request carries.
        {"X-Twilio-Signature": sign(PUBLIC_BASE_URL + path + "&x=1", form)},
    ]
    for headers in cases:
        answer = await client.post(path, data=form, headers=headers)
        assert answer.status_code == 403, (path, headers, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    # A tampered field breaks a good signature too.
    headers = {"X-Twilio-Signature": sign(PUBLIC_BASE_URL + path, form)}
    answer = await client.post(path, data={**form, "From": "+19005550000"}, headers=headers)
    assert answer.status_code == 403
    assert await _calls(db) == 0


async def test_an_empty_token_refuses_everything(
    settings: Settings, clock: FixedClock, db: Database
) -> None:
    application = create_app(settings.model_copy(update={"twilio_auth_token": ""}), clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            form = {"CallSid": "CA1", "From": "+14155550100", "To": "+18005550100"}
            answer = await post(http, "/twilio/voice", form, token="")
            assert answer.status_code == 403
    assert await _calls(db) == 0


async def test_the_check_can_be_turned_off_for_local_development(
    settings: Settings, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    unchecked = settings.model_copy(update={"twilio_signature_check": False})
    application = create_app(unchecked, clock=clock)
    async with application.router.lifespan_context(application):
        assert "SIGNATURE CHECK IS DISABLED" in caplog.text
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            answer = await http.post("/twilio/voice", data=Caller(http).form())
            doc = parse_twiml(answer)
            assert doc.find("Gather") is not None


_FIELD = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@given(
    pairs=st.lists(st.tuples(_FIELD, _FIELD), max_size=8),
    port=st.sampled_from(["", ":443"]),
    algorithm=st.sampled_from([None, HMAC_SHA1, HMAC_SHA256]),
    signed_with_port=st.booleans(),
)
def test_the_check_agrees_with_twilios_validator(
    pairs: list[tuple[str, str]], port: str, algorithm: str | None, signed_with_port: bool
) -> None:
    url = f"https://mycompany.com{port}/twilio/gather?v=2&lang=en"
    form = FormData(pairs)
    twilio = RequestValidator(VECTOR_TOKEN)
    signed = "https://mycompany.com" + (":443" if signed_with_port else "")
    signature = twilio.compute_signature(signed + "/twilio/gather?v=2&lang=en", form, algorithm)
    for params in (form, pairs):  # repeated names: every value counts, as Twilio posts them
        assert signature_valid(VECTOR_TOKEN, url, params, signature, algorithm)
    assert twilio.validate(url, form, signature, algorithm)
    forged = [*pairs, ("Digits", "9")]
    assert signature_valid(VECTOR_TOKEN, url, forged, signature, algorithm) == twilio.validate(
        url, FormData(forged), signature, algorithm
    )
