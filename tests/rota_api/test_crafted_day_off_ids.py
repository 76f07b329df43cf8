"""Crafted day-off ids answer a clear 404 problem, never a 500 (issue 13.8)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Keys

CRAFTED = [
    "manual:²",
    "manual:٣",
    "manual:99999999999999999999",
    "manual:2147483648",
    "manual:007",
    "manual:-1",
    "manual:",
    "lieu:1:9999-12-31:1",
    "lieu:1:0001-01-01:1",
    "lieu:٣:2026-11-20:1",
    "lieu:99999999999:2026-11-20:1",
    "lieu:1:2026-11-20:1:2",
    "nonsense",
]


@pytest.mark.parametrize("day_off_id", CRAFTED)
async def test_a_crafted_day_off_id_is_not_found(
    client: httpx.AsyncClient, keys: Keys, day_off_id: str
) -> None:
    headers = await keys.headers("scheduler")
    url = f"/v1/days-off/{day_off_id}"
    answers = [
        await client.get(f"{url}/etag", headers=headers),
        await client.patch(url, json={"day": "2026-12-01"}, headers={**headers, "If-Match": "*"}),
        await client.delete(url, headers={**headers, "If-Match": "*"}),
    ]
    for answer in answers:
        assert answer.status_code == 404, (day_off_id, answer.status_code, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
