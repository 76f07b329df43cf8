"""/docs and /redoc in a real browser ask nothing of any other host (issue 14.7).

ReDoc's sidebar fetches its logo from cdn.redoc.ly whatever its options say; a host without
internet must still see the pages whole, and nothing may leave the machine.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route

from tests.browser.conftest import Server


@pytest.mark.parametrize(("path", "heading"), [("/docs", "Switchboard"), ("/redoc", "Switchboard")])
def test_api_docs_load_nothing_from_elsewhere(
    page: Page, server: Server, path: str, heading: str
) -> None:
    elsewhere: list[str] = []

    def refuse(route: Route) -> None:  # whatever reaches the network layer is noted
        elsewhere.append(route.request.url)
        route.abort()

    page.route(lambda url: not url.startswith(server.url), refuse)
    page.goto(server.url + path, wait_until="networkidle")
    page.get_by_text("/v1/calls").first.wait_for()
    assert heading in page.title()
    assert elsewhere == [], f"{path} asked {elsewhere}"
