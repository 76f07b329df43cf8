"""`POST /v1/voice/token`: the softphone's Twilio access token, decoded and checked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.core.clock import FixedClock
from app.core.db import Database
from app.main import create_app
from tests.telephony.rota_rows import Person, staff

ACCOUNT = "AC" + "a1" * 16
API_KEY = "SK" + "b2" * 16
SECRET = "c3" * 16
APP_SID = "AP" + "d4" * 16


@pytest.fixture
async def softphone_client(
    settings: Settings, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the four softphone settings."""
    configured = settings.model_copy(
        update={
            "twilio_account_sid": ACCOUNT,
            "twilio_api_key_sid": API_KEY,
            "twilio_api_key_secret": SECRET,
            "twiml_app_sid": APP_SID,
            "voice_token_ttl_seconds": 300,
        }
    )
    app: FastAPI = create_app(configured, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


async def test_the_token_grants_incoming_calls_for_my_identity_and_outgoing_via_the_app(
    softphone_client: httpx.AsyncClient, db: Database, clock: FixedClock, keys: Any
) -> None:
    ids = await staff(db, clock.now(), {"support-en": [Person("Bob", "client:bob", ["en"])]})
    headers = await keys.headers("specialist", specialist_id=ids["Bob"])
    answer = await softphone_client.post("/v1/voice/token", headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["identity"] == "bob"
    assert body["ttl_seconds"] == 300
    claims = jwt.decode(
        body["token"],
        SECRET,
        algorithms=["HS256"],
        options={"verify_exp": False, "verify_nbf": False},
    )
    header = jwt.get_unverified_header(body["token"])
    assert header["cty"] == "twilio-fpa;v=1"
    assert claims["iss"] == API_KEY
    assert claims["sub"] == ACCOUNT
    assert claims["grants"] == {
        "identity": "bob",
        "voice": {"incoming": {"allow": True}, "outgoing": {"application_sid": APP_SID}},
    }
    now = int(clock.now().timestamp())
    assert claims["nbf"] == now
    assert claims["exp"] == now + 300
    assert body["expires_at"] == (clock.now() + timedelta(seconds=300)).isoformat().replace(
        "+00:00", "Z"
    )
    # A wrong secret does not verify it.
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(body["token"], "x" * 32, algorithms=["HS256"], options={"verify_exp": False})


async def test_no_token_without_a_client_contact_a_specialist_or_the_settings(
    client: httpx.AsyncClient,
    softphone_client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    keys: Any,
) -> None:
    ids = await staff(
        db,
        clock.now(),
        {
            "support-en": [
                Person("Ann", "+14155550001", ["en"]),
                Person("Bob", "client:bob", ["en"]),
            ]
        },
    )
    ann = await keys.headers("specialist", specialist_id=ids["Ann"])
    phone = await softphone_client.post("/v1/voice/token", headers=ann)
    assert phone.status_code == 409
    assert "client:NAME" in phone.json()["detail"]
    scheduler = await softphone_client.post(
        "/v1/voice/token", headers=await keys.headers("scheduler")
    )
    assert scheduler.status_code == 403
    assert (await softphone_client.post("/v1/voice/token")).status_code == 401
    bob = await keys.headers("specialist", specialist_id=ids["Bob"])
    unconfigured = await client.post("/v1/voice/token", headers=bob)
    assert unconfigured.status_code == 409
    assert "TWIML_APP_SID" in unconfigured.json()["detail"]
    assert unconfigured.headers["content-type"].startswith("application/problem+json")
