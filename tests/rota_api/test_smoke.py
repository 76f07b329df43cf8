"""A scheduler builds a small rota through the API and asks who is on shift."""

from __future__ import annotations

import httpx

from tests.conftest import Keys


async def test_build_rota_and_query(client: httpx.AsyncClient, keys: Keys) -> None:
    h = await keys.headers("scheduler")
    team = await client.post(
        "/v1/teams",
        json={
            "slug": "support-en",
            "name": "English support",
            "time_zone": "America/Los_Angeles",
            "languages": ["en"],
            "coverage": [
                {
                    "days": ["mon", "tue", "wed", "thu", "fri"],
                    "start": "09:00",
                    "end": "17:00",
                    "min_staff": 1,
                }
            ],
            "holidays": {"country": "US", "subdivision": "CA"},
        },
        headers=h,
    )
    assert team.status_code == 201, team.text
    ids = []
    for name in ("Ada", "Grace", "Linus"):
        r = await client.post(
            "/v1/specialists",
            json={
                "name": name,
                "contact": "+14155550100",
                "time_zone": "America/Los_Angeles",
                "languages": ["en"],
                "skills": ["payments"],
                "teams": ["support-en"],
            },
            headers=h,
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    rot = await client.post(
        "/v1/rotations",
        json={
            "team": "support-en",
            "name": "weekdays",
            "members": ids[:2],
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "start": "09:00",
            "end": "17:00",
            "effective_from": "2026-11-01T00:00:00-07:00",
        },
        headers=h,
        params={"allow_past": "true"},
    )
    assert rot.status_code == 201, rot.text
    # NOW is Friday 2026-11-20 15:00Z = 07:00 in Los Angeles: before the shift.
    early = await client.get("/v1/rota/on-shift", headers=h)
    assert early.json()["on_shift"] == []
    later = await client.get(
        "/v1/rota/on-shift", params={"at": "2026-11-20T10:00:00-08:00"}, headers=h
    )
    assert [s["specialist_name"] for s in later.json()["on_shift"]] == ["Ada", "Grace"]
    assert later.json()["on_shift"][0]["source"]["rotation_name"] == "weekdays"
    sched = await client.get(
        "/v1/rota/schedule",
        params={
            "start": "2026-11-23T00:00:00Z",
            "end": "2026-11-30T00:00:00Z",
            "team": "support-en",
        },
        headers=h,
    )
    assert sched.status_code == 200, sched.text
    # Mon-Wed for two people; Thanksgiving (Thu 26th) and the day after (a California
    # holiday) are on the team's US-CA calendar, so the `all` rotation does not run.
    assert len(sched.json()["shifts"]) == 6
    gaps = await client.get(
        "/v1/rota/gaps",
        params={
            "start": "2026-11-23T00:00:00Z",
            "end": "2026-11-30T00:00:00Z",
            "team": "support-en",
        },
        headers=h,
    )
    assert gaps.status_code == 200, gaps.text
    # Thursday and Friday are holidays (no coverage asked); Mon-Wed are staffed.
    assert gaps.json() == []
    for person in ids[:2]:
        leave = await client.post(
            "/v1/overrides",
            json={
                "kind": "leave",
                "specialist_id": person,
                "start": "2026-11-23T00:00:00-08:00",
                "end": "2026-11-24T00:00:00-08:00",
            },
            headers=h,
        )
        assert leave.status_code == 201, leave.text
    gaps = await client.get(
        "/v1/rota/gaps",
        params={
            "start": "2026-11-23T00:00:00Z",
            "end": "2026-11-30T00:00:00Z",
            "team": "support-en",
        },
        headers=h,
    )
    # Both on leave on Monday: its 09:00-17:00 (Los Angeles) has nobody.
    assert [(g["start"], g["end"], g["staffed"], g["min_staff"]) for g in gaps.json()] == [
        ("2026-11-23T17:00:00Z", "2026-11-24T01:00:00Z", 0, 1)
    ]
    fair = await client.get(
        "/v1/rota/fairness",
        params={"start": "2026-11-23T00:00:00Z", "end": "2026-11-30T00:00:00Z"},
        headers=h,
    )
    assert fair.status_code == 200, fair.text
    assert [(f["specialist_name"], f["shifts"], f["hours"]) for f in fair.json()] == [
        ("Ada", 2, 16.0),
        ("Grace", 2, 16.0),
    ]
    dry = await client.put(
        f"/v1/rotations/{rot.json()['id']}",
        params={"dry_run": "true"},
        json={
            "members": ids,
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "start": "09:00",
            "end": "17:00",
        },
        headers={**h, "If-Match": rot.headers["etag"]},
    )
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True
    assert {s["specialist_name"] for s in dry.json()["added"]} == {"Linus"}
    audit = await client.get("/v1/audit", headers=h)
    assert audit.status_code == 200
    assert len(audit.json()["items"]) == 7
    ledger = await client.get("/v1/rota/lieu-ledger", headers=h)
    assert ledger.status_code == 200, ledger.text
    assert ledger.json() == []  # nobody works a rotation that earns days in lieu
