"""/docs and /redoc load nothing from outside: their assets come from the app itself."""

from __future__ import annotations

import re

import httpx
import pytest

LINKS = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(['"]?([^'")]+)""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_api_docs_pages_use_only_local_assets(client: httpx.AsyncClient, page: str) -> None:
    r = await client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "/openapi.json" in html
    links = [a or b for a, b in LINKS.findall(html)]
    scripts = [link for link in links if link.endswith(".js")]
    assert scripts, html
    for link in links:
        assert link.startswith("/"), f"{page} loads {link}"
        asset = await client.get(link)
        assert asset.status_code == 200, link
        assert len(asset.content) > 1000, link
    assert "googleapis" not in html and "jsdelivr" not in html and "cdn" not in html.lower()


async def test_openapi_document_is_served(client: httpx.AsyncClient) -> None:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    assert r.json()["info"]["title"] == "Switchboard"
    assert "/docs" not in r.json()["paths"]
