"""Operations: health, readiness, metrics, problem+json for the unexpected, masked logs."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from fastapi import FastAPI

from app.core.logging import MaskingJsonFormatter
from app.core.phone import mask_phone


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"


async def test_readyz_is_503_when_the_database_is_unreachable(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    from app.core.db import Database

    good = app.state.db
    app.state.db = Database.from_url("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        ready = await client.get("/readyz")
    finally:
        await app.state.db.dispose()
        app.state.db = good
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"].startswith("unreachable")


async def test_metrics_count_requests_per_route_template(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await client.get("/v1/accounts/12345", headers=admin)
    text = (await client.get("/metrics")).text
    assert 'switchboard_http_requests_total{method="GET",route="/v1/accounts/{account_id}"' in text
    assert "switchboard_http_request_duration_seconds_bucket" in text
    assert "/v1/accounts/12345" not in text


async def test_unexpected_error_is_a_500_problem_with_an_id_in_the_log(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    with caplog.at_level(logging.ERROR, logger="switchboard.errors"):
        response = await client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert body["error_id"] in caplog.text


async def test_unknown_route_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_phone_numbers_are_masked_except_last_four() -> None:
    assert mask_phone("from +14155550199 to +44 20 7946 0958") == (
        "from +*******0199 to +** ** **** 0958"
    )
    assert mask_phone("From=%2B14155550199&To=x") == "From=%2B*******0199&To=x"
    assert mask_phone("at 2026-11-22 id 12345") == "at 2026-11-22 id 12345"


def test_masking_leaves_call_sids_ids_and_timestamps_readable() -> None:
    # A failure is logged with its CallSid: the operator must be able to search for it.
    for text in (
        "call CA0e099fbf294a458fb6b12345670619d failed",
        "request 964721b64e2f4256",
        "id 1234567890abcdef",
        "2026-11-22 01:16:19,683 ERROR uvicorn.error startup failed",
    ):
        assert mask_phone(text) == text
    assert mask_phone("tel:+14155550199, x+14155550199") == "tel:+*******0199, x+*******0199"


def test_json_log_lines_mask_phone_numbers_in_fields() -> None:
    record = logging.makeLogRecord(
        {"msg": "call from %s", "args": ("+14155550199",), "levelname": "INFO", "name": "t"}
    )
    record.caller = "+14155550199"
    line = json.loads(MaskingJsonFormatter().format(record))
    assert line["msg"] == "call from +*******0199"
    assert line["caller"] == "+*******0199"


def test_access_log_query_hides_feed_tokens_and_phone_numbers() -> None:
    from app.core.observability import redact_query

    assert redact_query("token=abcDEF123_-x&at=2026-11-22") == "token=***&at=2026-11-22"
    assert redact_query("phone=%2B14155550199") == "phone=%2B*******0199"
