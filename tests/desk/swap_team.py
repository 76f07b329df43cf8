"""A small team for swap tests: Ann early on weekdays, Bob late, Cy at weekends."""

from __future__ import annotations

from typing import Any

import httpx

from tests.rota_api.helpers import Api, utc

MONDAY = (utc(2026, 11, 23, 9), utc(2026, 11, 23, 17))
TUESDAY = (utc(2026, 11, 24, 9), utc(2026, 11, 24, 17))
WEDNESDAY = (utc(2026, 11, 25, 9), utc(2026, 11, 25, 17))


async def swap_team(client: httpx.AsyncClient, keys: Any) -> tuple[Api, dict[str, int]]:
    """Team `t` with its three people; a scheduler's API and the ids by name."""
    api = Api(client, await keys.headers("scheduler"))
    await api.team("t")
    ann, bob, cy = await api.people("t", "Ann", "Bob", "Cy")
    await api.rotation("t", [ann], name="early", start="09:00", end="17:00")
    await api.rotation("t", [bob], name="late", start="13:00", end="21:00")
    await api.rotation("t", [cy], name="weekend", days=["sat", "sun"])
    return api, {"Ann": ann, "Bob": bob, "Cy": cy}


async def as_specialist(keys: Any, ids: dict[str, int], name: str) -> dict[str, str]:
    """The headers of a specialist key for one of them."""
    headers: dict[str, str] = await keys.headers("specialist", name=name, specialist_id=ids[name])
    return headers
