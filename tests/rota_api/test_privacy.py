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
    assert listing.json() == []
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
        for s in (await client.get("/v1/specialists", headers=mine)).json()
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
