"""A cookie-keeping client over https (the test settings' PUBLIC_BASE_URL is https)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Like a browser: keeps cookies, does not follow redirects by itself."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("203.0.113.5", 1))
    async with httpx.AsyncClient(transport=transport, base_url="https://console.test") as http:
        yield http
