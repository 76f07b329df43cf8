"""The plain-ASGI path for Twilio's url-encoded posts answers exactly as the FastAPI routes do.

Twilio always posts application/x-www-form-urlencoded, which the fast path answers; the same
signed form sent as multipart/form-data goes through the FastAPI route instead. Both must give
the same TwiML, the same errors and the same metrics and log lines.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from fastapi import FastAPI, Request
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.models.call import Call
from app.telephony import fastpath
from app.telephony.endpoints import HOOKS
from tests.conftest import PUBLIC_BASE_URL
from tests.telephony.twilio import Caller, parse_twiml, sign

MULTIPART_BOUNDARY = "switchboard-test-boundary"


def _multipart(form: dict[str, str]) -> bytes:
    parts = [
        f'--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in form.items()
    ]
    return ("".join(parts) + f"--{MULTIPART_BOUNDARY}--\r\n").encode()


async def _post(
    client: httpx.AsyncClient, path: str, form: dict[str, str], *, multipart: bool = False
) -> httpx.Response:
    headers = {"X-Twilio-Signature": sign(PUBLIC_BASE_URL + path, form)}
    if multipart:
        headers["Content-Type"] = f"multipart/form-data; boundary={MULTIPART_BOUNDARY}"
        return await client.post(path, content=_multipart(form), headers=headers)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return await client.post(path, content=urlencode(form).encode(), headers=headers)


def test_every_twilio_route_has_a_hook(app: FastAPI) -> None:
    twilio_routes = {path for path in app.openapi()["paths"] if path.startswith("/twilio/")}
    assert twilio_routes == set(HOOKS)


async def test_both_paths_answer_a_call_the_same(client: httpx.AsyncClient, db: Database) -> None:
    fast = Caller(client, sid="CA" + "a" * 32).form()
    slow = {**fast, "CallSid": "CA" + "b" * 32}
    by_fast = await _post(client, "/twilio/voice", fast)
    by_framework = await _post(client, "/twilio/voice", slow, multipart=True)
    assert by_fast.status_code == by_framework.status_code == 200
    assert _headers(by_fast) == _headers(by_framework)
    assert by_fast.text == by_framework.text
    parse_twiml(by_fast)  # schema-valid TwiML
    async with db.transaction() as session:
        for sid in (fast["CallSid"], slow["CallSid"]):
            assert await session.get(Call, await _call_id(session, sid)) is not None


def _headers(response: httpx.Response) -> dict[str, str]:
    """The response's headers but its request id (every request has its own)."""
    return {k: v for k, v in response.headers.items() if k != "x-request-id"}


async def test_both_paths_answer_a_status_callback_the_same(client: httpx.AsyncClient) -> None:
    # A callback nobody hears: 204, no body, no content type, on either path.
    forms = [
        Caller(client, sid=sid).form(CallStatus="completed", SequenceNumber="3", CallDuration="9")
        for sid in ("CA" + "c" * 32, "CA" + "d" * 32)
    ]
    by_fast = await _post(client, "/twilio/status", forms[0])
    by_framework = await _post(client, "/twilio/status", forms[1], multipart=True)
    assert by_fast.status_code == by_framework.status_code == 204
    assert _headers(by_fast) == _headers(by_framework)
    assert by_fast.content == by_framework.content == b""
    assert by_fast.headers["x-request-id"] != by_framework.headers["x-request-id"]


async def _call_id(session: AsyncSession, sid: str) -> int:
    found = await session.scalar(select(Call.id).where(Call.sid == sid))
    assert found is not None, sid
    return found


async def test_percent_encoded_fields_are_read_as_the_framework_reads_them(
    client: httpx.AsyncClient,
) -> None:
    # Speech with spaces, non-ASCII and '+': the signature covers the decoded values.
    caller = Caller(client, sid="CA" + "c" * 32)
    doc = await caller.dial_in()
    assert doc.find("Gather") is not None
    form = {
        **caller.form(),
        "SpeechResult": "Français + 日本語 & more",
        "Confidence": "0.9",
    }
    action = doc.find("Gather").get("action")  # type: ignore[union-attr]
    assert action is not None
    path = action.removeprefix(PUBLIC_BASE_URL)
    answer = await _post(client, path, form)
    assert answer.status_code == 200, answer.text
    parse_twiml(answer)


async def test_a_wrong_signature_is_problem_json_on_the_fast_path(
    client: httpx.AsyncClient, db: Database
) -> None:
    form = Caller(client).form()
    answer = await client.post(
        "/twilio/voice",
        content=urlencode(form).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sign(PUBLIC_BASE_URL + "/twilio/voice", form, "other-token"),
        },
    )
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["type"] == "/problems/forbidden"
    assert body["instance"] == "/twilio/voice"
    assert "x-request-id" in answer.headers


async def test_an_oversized_body_to_a_status_callback_is_refused(
    client: httpx.AsyncClient,
) -> None:
    form = {**Caller(client).form(), "Padding": "x" * (fastpath.MAX_BODY + 1)}
    answer = await _post(client, "/twilio/status", form)
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("path", "first_words"),
    [
        ("/twilio/voice", "We're sorry, something went wrong on our side."),
        ("/twilio/gather?v=2&lang=de&step=topic", "Es tut uns leid"),
        ("/twilio/fallback/recorded?lang=fr", "Merci. Nous vous rappellerons."),
    ],
)
async def test_an_oversized_body_to_a_callers_webhook_gets_the_apology_twiml(
    client: httpx.AsyncClient, db: Database, path: str, first_words: str
) -> None:
    """Unread and so unsigned as far as we know: the caller hears the apology, not an error."""
    form = {**Caller(client).form(), "Padding": "x" * (fastpath.MAX_BODY + 1)}
    answer = await _post(client, path, form)
    doc = parse_twiml(answer)
    heard = [el.text or "" for el in doc.iter("Say")]
    assert heard[0].startswith(first_words), heard
    async with db.transaction() as session:
        assert await session.scalar(select(Call.id)) is None


@pytest.mark.parametrize("path", ["/twilio/voice", "/twilio/status", "/twilio/recording"])
async def test_an_oversized_multipart_upload_is_never_parsed(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """A large unsigned upload is refused before any form parser (which spools files to disk)."""
    parsed: list[str] = []
    real_form = Request.form

    def spy(self: Request, *args: object, **kwargs: object) -> object:
        parsed.append(self.url.path)
        return real_form(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Request, "form", spy)
    upload = b"\0" * (fastpath.MAX_BODY * 16)
    answer = await client.post(
        path,
        files={"Recording": ("message.wav", upload, "audio/wav")},
        data={"CallSid": "CA" + "e" * 32},
    )
    assert parsed == []
    if path == "/twilio/voice":
        assert "We're sorry" in answer.text
    else:
        assert answer.status_code == 413
    # Under the cap a signed multipart form is still read by the framework's route.
    small = await _post(client, path, Caller(client, sid="CA" + "f" * 32).form(), multipart=True)
    assert small.status_code in (200, 204), small.text
    assert parsed == [path]


@pytest.mark.parametrize("method", ["GET", "PUT"])
async def test_other_methods_still_get_the_frameworks_405(
    client: httpx.AsyncClient, method: str
) -> None:
    answer = await client.request(method, "/twilio/voice")
    assert answer.status_code == 405


async def test_an_unknown_twilio_path_is_404(client: httpx.AsyncClient) -> None:
    answer = await _post(client, "/twilio/nowhere", Caller(client).form())
    assert answer.status_code == 404


async def test_metrics_count_fast_path_requests_by_route(client: httpx.AsyncClient) -> None:
    await Caller(client, sid="CA" + "d" * 32).dial_in()
    metrics = (await client.get("/metrics")).text
    line = next(
        (
            m
            for m in metrics.splitlines()
            if m.startswith("switchboard_http_requests_total{")
            and 'route="/twilio/voice"' in m
            and 'status="200"' in m
        ),
        None,
    )
    assert line is not None, metrics
    assert float(line.rsplit(" ", 1)[1]) >= 1


async def test_an_unexpected_failure_is_500_problem_json(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: object) -> None:
        raise RuntimeError("status table on fire")

    monkeypatch.setitem(HOOKS, "/twilio/status", broken)
    form = {**Caller(client).form(), "CallStatus": "completed"}
    answer = await _post(client, "/twilio/status", form)
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert "error_id" in answer.json()


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(alphabet="ab=&%+2B0Fé;\x00 ", max_size=40),
        st.lists(st.tuples(st.text(max_size=8), st.text(max_size=12)), max_size=5).map(urlencode),
    ),
    st.booleans(),
)
def test_the_form_parser_reads_what_parse_qsl_reads(text: str, blank: bool) -> None:
    """The fast path's own form parser gives parse_qsl's pairs, for any text."""
    assert fastpath.parse_form(text, blank=blank) == parse_qsl(text, keep_blank_values=blank)
