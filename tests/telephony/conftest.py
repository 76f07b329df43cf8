"""Fixtures for telephony tests: accounts and a ready Twilio caller."""

from __future__ import annotations

from typing import Any

import httpx
import pytest


@pytest.fixture
async def make_account(client: httpx.AsyncClient, admin: dict[str, str]) -> Any:
    """Create an account through the API; returns its JSON."""

    async def _make(name: str, phones: list[str], tier: str = "standard") -> dict[str, Any]:
        answer = await client.post(
            "/v1/accounts",
            json={"name": name, "tier": tier, "phones": phones, "preferred_language": "en"},
            headers=admin,
        )
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        return body

    return _make
