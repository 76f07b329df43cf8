"""Values of the wrong type are refused, not coerced (schemathesis's negative_data_rejection).

Pydantic's lax mode would read `false` as 0, `0` as false and "5" as 5 in a JSON body, and
`0.5` as an instant 0.5 s after 1970 in a query: each answered 200 (or went on to a 412)
where the schema says the value is invalid. Each is a 422 problem naming the field now.
"""

from __future__ import annotations

import httpx
import pytest

from tests.foundation.test_bad_input import TEAM, assert_refused


async def test_a_number_is_not_an_instant_in_the_closures_list(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for value in ("0.5", "0", "1700000000"):
        answer = await client.get("/v1/closures", params={"ending_after": value}, headers=admin)
        assert_refused(answer, "query.ending_after")
    fine = await client.get(
        "/v1/closures", params={"ending_after": "2026-11-20T00:00:00Z"}, headers=admin
    )
    assert fine.status_code == 200, fine.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"position": False}, "body.position"),
        ({"position": "3"}, "body.position"),
        ({"active": 0}, "body.active"),
        ({"active": "yes"}, "body.active"),
    ],
)
async def test_disposition_numbers_and_booleans_are_strict(
    client: httpx.AsyncClient, admin: dict[str, str], body: dict[str, object], field: str
) -> None:
    made = await client.post(
        "/v1/dispositions", json={"code": "solved", "label": "Solved"}, headers=admin
    )
    assert made.status_code == 201, made.text
    assert_refused(await client.patch("/v1/dispositions/solved", json=body, headers=admin), field)
    refused = await client.post(
        "/v1/dispositions", json={"code": "other", "label": "Other", **body}, headers=admin
    )
    if "position" in body:
        assert_refused(refused, field)
    fine = await client.patch(
        "/v1/dispositions/solved", json={"position": 3, "active": False}, headers=admin
    )
    assert fine.status_code == 200, fine.text
    assert (fine.json()["position"], fine.json()["active"]) == (3, False)


async def test_console_settings_are_strict(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    assert (await client.post("/v1/teams", json=TEAM, headers=admin)).status_code == 201
    settings = {
        "wait_amber_seconds": 60,
        "wait_red_seconds": 120,
        "service_level_amber": 80,
        "service_level_red": 60,
        "swaps_need_approval": True,
    }
    path = "/v1/teams/t/console-settings"
    for name, wrong in (("swaps_need_approval", 0), ("wait_amber_seconds", True)):
        answer = await client.put(path, json={**settings, name: wrong}, headers=admin)
        assert_refused(answer, f"body.{name}")
    assert (await client.put(path, json=settings, headers=admin)).status_code == 200


async def test_replacing_a_team_or_specialist_refuses_booleans_for_ids(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    made = await client.post("/v1/teams", json=TEAM, headers=admin)
    assert made.status_code == 201, made.text
    team = made.json()
    for name, wrong in (("id", False), ("members", [False])):
        answer = await client.put(
            "/v1/teams/t",
            json={**team, name: wrong},
            headers={**admin, "If-Match": made.headers["ETag"]},
        )
        assert_refused(answer, f"body.{name}" if name == "id" else "body.members[0]")
    person = {
        "name": "Ann",
        "contact": "+14155550001",
        "time_zone": "UTC",
        "languages": ["en"],
        "skills": [],
        "teams": [],
    }
    made = await client.post("/v1/specialists", json=person, headers=admin)
    assert made.status_code == 201, made.text
    answer = await client.put(
        f"/v1/specialists/{made.json()['id']}",
        json={**made.json(), "id": False},
        headers={**admin, "If-Match": made.headers["ETag"]},
    )
    assert_refused(answer, "body.id")


async def test_a_specialists_active_flag_is_a_boolean(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    person = {
        "name": "Ann",
        "contact": "+14155550001",
        "time_zone": "UTC",
        "languages": ["en"],
    }
    for wrong in (0, 1, "true"):
        answer = await client.post(
            "/v1/specialists", json={**person, "active": wrong}, headers=admin
        )
        assert_refused(answer, "body.active")
    made = await client.post("/v1/specialists", json={**person, "active": False}, headers=admin)
    assert made.status_code == 201, made.text
    answer = await client.put(
        f"/v1/specialists/{made.json()['id']}",
        json={**made.json(), "active": 0},
        headers={**admin, "If-Match": made.headers["ETag"]},
    )
    assert_refused(answer, "body.active")


async def test_rotation_numbers_and_flags_are_strict(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    assert (await client.post("/v1/teams", json=TEAM, headers=admin)).status_code == 201
    made = await client.post(
        "/v1/specialists",
        json={
            "name": "Ann",
            "contact": "+14155550001",
            "time_zone": "UTC",
            "languages": ["en"],
            "teams": ["t"],
        },
        headers=admin,
    )
    assert made.status_code == 201, made.text
    rotation = {
        "team": "t",
        "name": "Days",
        "members": [made.json()["id"]],
        "days": ["mon"],
        "start": "09:00",
        "end": "17:00",
    }
    cases = [
        ({"members": [True]}, "body.members[0]"),
        ({"length_days": "2"}, "body.length_days"),
        ({"every_weeks": True}, "body.every_weeks"),
        ({"run_on_holidays": 1}, "body.run_on_holidays"),
        ({"earns_lieu": "no"}, "body.earns_lieu"),
    ]
    for change, field in cases:
        answer = await client.post(
            "/v1/rotations", json={**rotation, **change}, params={"dry_run": "true"}, headers=admin
        )
        assert_refused(answer, field)
    fine = await client.post(
        "/v1/rotations",
        json={**rotation, "length_days": 2},
        params={"dry_run": "true"},
        headers=admin,
    )
    assert fine.status_code == 200, fine.text


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/v1/api-keys",
            {"name": "k", "role": "specialist", "specialist_id": True},
            "body.specialist_id",
        ),
        ("/v1/alert-rules", {"team": "t", "kind": "new_work", "active": 1}, "body.active"),
        (
            "/v1/alert-rules",
            {"team": "t", "kind": "caller_waiting", "threshold": "60"},
            "body.threshold",
        ),
        (
            "/v1/alert-rules",
            {"team": "t", "kind": "new_work", "channel_id": True},
            "body.channel_id",
        ),
        (
            "/v1/alert-channels",
            {
                "team": "t",
                "name": "n",
                "kind": "slack",
                "target": "https://example.com/x",
                "active": 0,
            },
            "body.active",
        ),
        ("/v1/days-off", {"specialist_id": "1", "day": "2026-11-23"}, "body.specialist_id"),
        ("/v1/callbacks/1/claim", {"specialist_id": True}, "body.specialist_id"),
        ("/v1/callbacks/1/dial", {"specialist_id": "1"}, "body.specialist_id"),
        ("/v1/calls/CA1/transfer", {"specialist_id": True}, "body.specialist_id"),
        (
            "/v1/swaps",
            {
                "kind": "offer",
                "team": "t",
                "start": "2026-11-23T09:00:00Z",
                "end": "2026-11-23T17:00:00Z",
                "teammate_id": False,
            },
            "body.teammate_id",
        ),
    ],
)
async def test_ids_numbers_and_flags_in_api_bodies_are_strict(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    path: str,
    body: dict[str, object],
    field: str,
) -> None:
    assert (await client.post("/v1/teams", json=TEAM, headers=admin)).status_code == 201
    answer = await client.post(path, json=body, headers=admin)
    assert_refused(answer, field)
    # Refused for its type, not read as 1 (or True) and then found wanting for other reasons.
    [error] = [e for e in answer.json()["errors"] if e["field"] == field]
    assert error["message"].startswith("Input should be a valid"), error
