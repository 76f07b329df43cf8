"""The OpenAPI document says what the service answers (issue 12.8)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

PROBLEM = "application/problem+json"


@pytest.fixture
def document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document."""
    return app.openapi()


def test_bearer_auth_is_declared_on_every_v1_operation(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearerAuth"]["description"],
    }
    for path, operations in document["paths"].items():
        if path.startswith("/v1/"):
            for method, operation in operations.items():
                assert operation.get("security") == [{"bearerAuth": []}], (method, path)
                assert "401" in operation["responses"] and "403" in operation["responses"]


def test_errors_are_documented_as_problems(document: dict[str, Any]) -> None:
    patch = document["paths"]["/v1/accounts/{account_id}"]["patch"]
    for status in ("401", "403", "404", "409", "412", "422", "428"):
        content = patch["responses"][status]["content"]
        assert list(content) == [PROBLEM], status
        assert content[PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert "HTTPValidationError" not in document["components"]["schemas"]
    headers = [p["name"] for p in patch["parameters"] if p["in"] == "header"]
    assert headers == ["If-Match"]


def test_dry_run_answers_are_documented(document: dict[str, Any]) -> None:
    token = document["paths"]["/v1/specialists/{specialist_id}/calendar-token"]["post"]
    schema = token["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"$ref": "#/components/schemas/ScheduleChange"} in schema["anyOf"]
    created = document["paths"]["/v1/teams"]["post"]["responses"]
    assert set(created) >= {"200", "201"}


def test_webhooks_are_documented_as_twiml(document: dict[str, Any]) -> None:
    voice = document["paths"]["/twilio/voice"]["post"]["responses"]
    assert list(voice["200"]["content"]) == ["text/xml"]
    assert "403" in voice
    status = document["paths"]["/twilio/status"]["post"]["responses"]
    assert "204" in status and "413" in status and "200" not in status


async def test_405_allows_every_method_of_the_path(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    answer = await client.put("/v1/accounts/1")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "DELETE, GET, HEAD, PATCH"
    literal = await client.patch("/v1/accounts/lookup", json={}, headers=admin)
    assert literal.status_code == 405
    assert literal.headers["allow"] == "GET, HEAD"
    assert literal.headers["content-type"] == PROBLEM
    erase = await client.patch("/v1/accounts/13:erase", json={}, headers=admin)
    assert erase.status_code == 405
    assert erase.headers["allow"] == "POST"


async def test_numbers_are_not_instants(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    answer = await client.get("/v1/calls", params={"start": "0.5"}, headers=admin)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "query.start"
