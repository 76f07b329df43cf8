"""A specialist key sees only its own overrides, days off and schedule."""

from __future__ import annotations

import httpx

from tests.conftest import Keys


async def test_specialist_key_sees_only_own_rota_data(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    h = await keys.headers("scheduler")
    await client.post(
        "/v1/teams",
        json={"slug": "t", "name": "T", "time_zone": "UTC", "languages": ["en"]},
        headers=h,
    )
    ids = []
    for name in ("Ada", "Grace"):
        r = await client.post(
            "/v1/specialists",
            json={
                "name": name,
                "contact": "+14155550100",
                "time_zone": "UTC",
                "languages": ["en"],
                "teams": ["t"],
            },
            headers=h,
        )
        ids.append(r.json()["id"])
    ada, grace = ids
    leave = await client.post(
        "/v1/overrides",
        json={
            "kind": "leave",
            "specialist_id": grace,
            "start": "2026-12-01T00:00:00Z",
            "end": "2026-12-03T00:00:00Z",
            "reason": "medical",
        },
        headers=h,
    )
    assert leave.status_code == 201, leave.text
    leave_id = leave.json()[0]["id"]
    mine = await keys.headers("specialist", specialist_id=ada)
    listing = await client.get("/v1/overrides", headers=mine)
    assert listing.status_code == 200
    assert listing.json()["items"] == []
    other = await client.get(f"/v1/overrides?specialist={grace}", headers=mine)
    assert other.status_code == 403
    assert other.headers["content-type"] == "application/problem+json"
    one = await client.get(f"/v1/overrides/{leave_id}", headers=mine)
    assert one.status_code == 404
    theirs = await keys.headers("specialist", specialist_id=grace)
    assert (await client.get(f"/v1/overrides/{leave_id}", headers=theirs)).status_code == 200
    offs = await client.get(
        "/v1/days-off",
        params={
            "start": "2026-11-01T00:00:00Z",
            "end": "2026-12-31T00:00:00Z",
            "specialist": grace,
        },
        headers=mine,
    )
    assert offs.status_code == 403
    schedule = await client.get(
        "/v1/rota/schedule",
        params={
            "start": "2026-11-01T00:00:00Z",
            "end": "2026-12-01T00:00:00Z",
            "specialist": grace,
        },
        headers=mine,
    )
    assert schedule.status_code == 403


async def test_feed_links_are_shown_to_their_owner_and_schedulers_only(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    h = await keys.headers("scheduler")
    await client.post(
        "/v1/teams",
        json={"slug": "t", "name": "T", "time_zone": "UTC", "languages": ["en"]},
        headers=h,
    )
    ids = []
    for name in ("Ada", "Grace"):
        r = await client.post(
            "/v1/specialists",
            json={
                "name": name,
                "contact": "+14155550100",
                "time_zone": "UTC",
                "languages": ["en"],
                "teams": ["t"],
            },
            headers=h,
        )
        ids.append(r.json()["id"])
    ada, grace = ids
    mine = await keys.headers("specialist", specialist_id=ada)
    listing = {
        s["id"]: s["calendar_url"]
        for s in (await client.get("/v1/specialists", headers=mine)).json()["items"]
    }
    assert listing[ada] is not None and listing[grace] is None
    assert (await client.get(f"/v1/specialists/{grace}", headers=mine)).json()[
        "calendar_url"
    ] is None
    assert (await client.get("/v1/teams/t", headers=mine)).json()["calendar_url"] is None
    assert (
        (await client.get("/v1/teams/t", headers=h))
        .json()["calendar_url"]
        .startswith("/calendars/teams/t.ics?token=")
    )
    fairness = await client.get(
        "/v1/rota/fairness",
        params={"start": "2026-11-01T00:00:00Z", "end": "2026-12-01T00:00:00Z"},
        headers=mine,
    )
    assert fairness.status_code == 403


async def test_rota_lists_are_paginated(client: httpx.AsyncClient, keys: Keys) -> None:
    h = await keys.headers("scheduler")
    await client.post(
        "/v1/teams",
        json={"slug": "t", "name": "T", "time_zone": "UTC", "languages": ["en"]},
        headers=h,
    )
    for i in range(5):
        await client.post(
            "/v1/specialists",
            json={
                "name": f"P{i}",
                "contact": "+14155550100",
                "time_zone": "UTC",
                "languages": ["en", "fr"] if i % 2 else ["en"],
                "teams": ["t"],
            },
            headers=h,
        )
        await client.post(
            "/v1/overrides",
            json={
                "kind": "leave",
                "specialist_id": i + 1,
                "start": f"2026-12-0{5 - i}T00:00:00Z",
                "end": f"2026-12-0{5 - i}T12:00:00Z",
            },
            headers=h,
        )

    async def walk(path: str, **params: object) -> list[dict[str, object]]:
        seen: list[dict[str, object]] = []
        cursor = None
        for _ in range(10):
            query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get(path, params=query, headers=h)).json()
            seen += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen
        raise AssertionError("pagination did not end")

    assert [s["name"] for s in await walk("/v1/specialists")] == [f"P{i}" for i in range(5)]
    assert [s["name"] for s in await walk("/v1/specialists", language="fr")] == ["P1", "P3"]
    leaves = await walk("/v1/overrides")
    assert [o["start"][:10] for o in leaves] == [f"2026-12-0{d}" for d in range(1, 6)]
    bad = await client.get("/v1/overrides", params={"cursor": "nope"}, headers=h)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.cursor"
