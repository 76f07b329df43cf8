"""PUT on teams and specialists takes the body GET returns: read-only fields unchanged pass."""

from __future__ import annotations

import httpx

from app.core.db import Database
from tests.conftest import Keys
from tests.rota_api.helpers import Api, assert_problem, rota_state


async def test_a_team_round_trips_and_changed_read_only_fields_are_named(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    api = Api(client, await keys.headers("scheduler"))
    await api.team("t")
    await api.people("t", "A")
    got = await api.get("/v1/teams/t")
    body = got.json()
    assert body["members"] and body["calendar_url"]

    same = await client.put("/v1/teams/t", json=body, headers=api.hdr(got.headers["etag"]))
    assert same.status_code == 200, same.text
    renamed = await client.put(
        "/v1/teams/t", json={**body, "name": "Renamed"}, headers=api.hdr(same.headers["etag"])
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Renamed"

    before = await rota_state(db)
    changed = await client.put(
        "/v1/teams/t",
        json={**renamed.json(), "id": body["id"] + 1, "members": [], "name": "Again"},
        headers=api.hdr(renamed.headers["etag"]),
    )
    problem = assert_problem(changed, 422)
    assert sorted(e["field"] for e in problem["errors"]) == ["body.id", "body.members"]
    assert await rota_state(db) == before


async def test_a_specialist_round_trips_and_a_changed_link_is_named(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    api = Api(client, await keys.headers("scheduler"))
    await api.team("t")
    (sid,) = await api.people("t", "A")
    got = await api.get(f"/v1/specialists/{sid}")
    body = got.json()

    same = await client.put(
        f"/v1/specialists/{sid}",
        json={**body, "skills": ["billing"]},
        headers=api.hdr(got.headers["etag"]),
    )
    assert same.status_code == 200, same.text
    assert same.json()["skills"] == ["billing"]

    before = await rota_state(db)
    changed = await client.put(
        f"/v1/specialists/{sid}",
        json={**same.json(), "calendar_url": "https://elsewhere.example/x.ics"},
        headers=api.hdr(same.headers["etag"]),
    )
    problem = assert_problem(changed, 422, field="body.calendar_url")
    assert [e["field"] for e in problem["errors"]] == ["body.calendar_url"]
    assert await rota_state(db) == before
    unknown = await client.put(
        f"/v1/specialists/{sid}",
        json={**same.json(), "favourite_colour": "green"},
        headers=api.hdr(same.headers["etag"]),
    )
    assert_problem(unknown, 422)
