"""Rota queries: gaps, fairness, on-shift and schedule filters, who may read what."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Keys
from tests.rota_api.helpers import WEEKDAYS, Api, assert_problem, iso, span, utc

MON = utc(2026, 11, 23)  # a Monday


@pytest.fixture
async def api(client: httpx.AsyncClient, keys: Keys) -> Api:
    """A scheduler's API."""
    return Api(client, await keys.headers("scheduler"))


async def _gaps(api: Api, team: str, start: Any, end: Any) -> list[tuple[Any, ...]]:
    r = await api.get("/v1/rota/gaps", start=iso(start), end=iso(end), team=team)
    assert r.status_code == 200, r.text
    return [
        (g["start"], g["end"], g["staffed"], g["min_staff"], g["language"], g["rule_index"])
        for g in r.json()
    ]


async def test_gaps_only_inside_coverage_hours(api: Api) -> None:
    await api.team(
        "t",
        coverage=[
            {"days": WEEKDAYS, "start": "09:00", "end": "17:00", "min_staff": 2},
            {"days": WEEKDAYS, "start": "09:00", "end": "17:00", "min_staff": 1, "language": "ja"},
        ],
    )
    (a,) = await api.people("t", "A")
    (b,) = await api.people("t", "B", languages=["en", "ja"])
    since = utc(2026, 11, 1)
    await api.rotation("t", [a], name="morning", start="06:00", end="12:00", effective_from=since)
    await api.rotation("t", [b], name="afternoon", start="13:00", end="20:00", effective_from=since)
    # Nobody from 20:00 to 06:00 and from 12:00 to 13:00; only hours inside 09-17 are gaps.
    assert await _gaps(api, "t", MON, utc(2026, 11, 24)) == [
        ("2026-11-23T09:00:00Z", "2026-11-23T12:00:00Z", 1, 2, None, 0),
        ("2026-11-23T09:00:00Z", "2026-11-23T13:00:00Z", 0, 1, "ja", 1),
        ("2026-11-23T12:00:00Z", "2026-11-23T13:00:00Z", 0, 2, None, 0),
        ("2026-11-23T13:00:00Z", "2026-11-23T17:00:00Z", 1, 2, None, 0),
    ]
    # The weekend has no coverage rule: no gaps although nobody is on.
    assert await _gaps(api, "t", utc(2026, 11, 21), MON) == []
    # Range clipping: asked from 10:00 to 12:30.
    assert await _gaps(api, "t", utc(2026, 11, 23, 10), utc(2026, 11, 23, 12, 30)) == [
        ("2026-11-23T10:00:00Z", "2026-11-23T12:00:00Z", 1, 2, None, 0),
        ("2026-11-23T10:00:00Z", "2026-11-23T12:30:00Z", 0, 1, "ja", 1),
        ("2026-11-23T12:00:00Z", "2026-11-23T12:30:00Z", 0, 2, None, 0),
    ]
    # A Japanese-speaking extra in the morning closes the language gap only.
    (c,) = await api.people("t", "C", languages=["ja"])
    await api.override(
        kind="extra",
        specialist_id=c,
        team="t",
        start=utc(2026, 11, 23, 9),
        end=MON.replace(hour=13),
    )
    gaps = await _gaps(api, "t", MON, utc(2026, 11, 24))
    assert [g for g in gaps if g[4] == "ja"] == []
    # C and A from 9 to 12, C then B alone after: touching parts with one count merge.
    assert gaps == [("2026-11-23T12:00:00Z", "2026-11-23T17:00:00Z", 1, 2, None, 0)]


async def test_fairness_on_a_small_example(api: Api) -> None:
    await api.team("t")
    a, b, d = await api.people("t", "A", "B", "D")
    (c,) = await api.people("t", "C", tz="Asia/Tokyo")
    since = utc(2026, 11, 1)
    await api.rotation(
        "t",
        [a],
        name="weekend",
        days=["sat", "sun"],
        start="10:00",
        end="18:00",
        effective_from=since,
    )
    await api.rotation(
        "t", [b], name="nights", days=["mon"], start="22:00", end="06:00", effective_from=since
    )
    # 13:00-17:00 UTC is 22:00-02:00 in Tokyo: night hours for C.
    await api.rotation(
        "t", [c], name="asia", days=["mon"], start="13:00", end="17:00", effective_from=since
    )
    await api.rotation("t", [d], name="fridays", days=["fri"], effective_from=since)
    r = await api.get("/v1/rota/fairness", start="2026-11-21T00:00:00Z", end="2026-11-24T00:00:00Z")
    assert r.status_code == 200, r.text
    got = {
        row["specialist_name"]: (
            row["shifts"],
            row["hours"],
            row["weekend_days"],
            row["night_hours"],
        )
        for row in r.json()
    }
    assert got == {
        "A": (2, 16.0, 2, 0.0),  # Sat and Sun 10-18
        "B": (1, 2.0, 0, 2.0),  # Mon 22:00 to the end of the range at midnight
        "C": (1, 4.0, 0, 4.0),
        "D": (0, 0.0, 0, 0.0),  # a member without shifts in the range
    }


@pytest.fixture
async def two_teams(api: Api) -> dict[str, int]:
    """Teams t (A en billing, B ja) and u (C en, D ja billing), all on weekdays 09-17."""
    await api.team("t")
    await api.team("u", languages=["en", "ja"])
    (a,) = await api.people("t", "A", skills=["billing"])
    (b,) = await api.people("t", "B", languages=["ja"])
    (c,) = await api.people("u", "C")
    (d,) = await api.people("u", "D", languages=["ja", "en"], skills=["billing", "refunds"])
    since = utc(2026, 11, 1)
    await api.rotation("t", [a, b], name="t-days", effective_from=since)
    await api.rotation("u", [c, d], name="u-days", effective_from=since)
    return {"A": a, "B": b, "C": c, "D": d}


async def test_on_shift_filters(api: Api, two_teams: dict[str, int]) -> None:
    at = utc(2026, 11, 23, 12)
    assert await api.names_on_shift(at) == ["A", "B", "C", "D"]
    assert await api.names_on_shift(at, team="t") == ["A", "B"]
    assert await api.names_on_shift(at, language="ja") == ["B", "D"]
    assert await api.names_on_shift(at, team="u", language="ja") == ["D"]
    assert await api.names_on_shift(at, skill="billing") == ["A", "D"]
    assert await api.names_on_shift(at, skill="refunds", language="en") == ["D"]
    assert await api.names_on_shift(at, team="t", skill="refunds") == []
    # Far in the past (outside the stored window) the answers are calculated alike.
    past = utc(2026, 1, 5, 12)
    assert await api.names_on_shift(past) == []
    assert await api.names_on_shift(utc(2026, 11, 2, 12), team="u", language="ja") == ["D"]
    # An inactive specialist is not on shift.
    r = await api.get(f"/v1/specialists/{two_teams['D']}")
    body = {k: r.json()[k] for k in ("name", "contact", "time_zone", "languages", "skills")}
    put = await api.client.put(
        f"/v1/specialists/{two_teams['D']}",
        json={**body, "teams": ["u"], "active": False},
        headers=api.hdr(r.headers["etag"]),
    )
    assert put.status_code == 200, put.text
    assert await api.names_on_shift(at, language="ja") == ["B"]


async def test_schedule_filters(api: Api, two_teams: dict[str, int]) -> None:
    day = (MON, utc(2026, 11, 24))
    assert len(await api.schedule(*day)) == 4
    assert {s["team"] for s in await api.schedule(*day, team="u")} == {"u"}
    assert [s["specialist_name"] for s in await api.schedule(*day, team="u")] == ["C", "D"]
    only_b = await api.schedule(*day, specialist=two_teams["B"])
    assert [(s["specialist_name"], *span(s)) for s in only_b] == [
        ("B", utc(2026, 11, 23, 9), utc(2026, 11, 23, 17))
    ]
    assert await api.schedule(*day, team="u", specialist=two_teams["B"]) == []


async def test_specialist_key_reads_only_its_own_schedule(
    api: Api, two_teams: dict[str, int], keys: Keys
) -> None:
    own = await keys.headers("specialist", specialist_id=two_teams["B"])
    params = {"start": "2026-11-23T00:00:00Z", "end": "2026-11-24T00:00:00Z"}
    r = await api.client.get("/v1/rota/schedule", params=params, headers=own)
    assert r.status_code == 200, r.text
    assert {s["specialist_name"] for s in r.json()["shifts"]} == {"B"}
    r = await api.client.get(
        "/v1/rota/schedule", params={**params, "specialist": two_teams["B"]}, headers=own
    )
    assert r.status_code == 200, r.text
    for other in (two_teams["A"], two_teams["D"]):
        r = await api.client.get(
            "/v1/rota/schedule", params={**params, "specialist": other}, headers=own
        )
        assert_problem(r, 403)
        r = await api.client.get("/v1/rota/lieu-ledger", params={"specialist": other}, headers=own)
        assert_problem(r, 403)
    # Reading who is on shift is allowed; writing is not.
    r = await api.client.get("/v1/rota/on-shift", headers=own)
    assert r.status_code == 200, r.text
    r = await api.client.post(
        "/v1/days-off", json={"specialist_id": two_teams["B"], "day": "2026-12-01"}, headers=own
    )
    assert_problem(r, 403)


async def test_who_may_read_the_rota(
    api: Api, two_teams: dict[str, int], keys: Keys, client: httpx.AsyncClient
) -> None:
    viewer = await keys.headers("viewer")
    admin = await keys.headers("admin")
    reads = [
        ("/v1/rota/on-shift", {}),
        ("/v1/rota/schedule", {"start": "2026-11-23T00:00:00Z", "end": "2026-11-24T00:00:00Z"}),
        (
            "/v1/rota/gaps",
            {"start": "2026-11-23T00:00:00Z", "end": "2026-11-24T00:00:00Z", "team": "t"},
        ),
        ("/v1/rota/fairness", {"start": "2026-11-23T00:00:00Z", "end": "2026-11-24T00:00:00Z"}),
        ("/v1/rota/lieu-ledger", {}),
        ("/v1/teams", {}),
        ("/v1/specialists", {}),
        ("/v1/rotations", {}),
        ("/v1/overrides", {}),
        ("/v1/days-off", {"start": "2026-11-23T00:00:00Z", "end": "2026-11-24T00:00:00Z"}),
    ]
    for path, params in reads:
        assert_problem(await client.get(path, params=params, headers=viewer), 403)
        assert_problem(await client.get(path, params=params), 401)
        assert (await client.get(path, params=params, headers=admin)).status_code == 200, path
        assert (await client.get(path, params=params, headers=api.h)).status_code == 200, path
    r = await client.post(
        "/v1/teams", json={"slug": "v", "name": "V", "time_zone": "UTC"}, headers=viewer
    )
    assert_problem(r, 403)
    assert_problem(await client.get("/v1/audit", headers=viewer), 403)


async def test_unknown_team_in_a_query_is_422(api: Api, two_teams: dict[str, int]) -> None:
    day = {"start": "2026-11-23T00:00:00Z", "end": "2026-11-24T00:00:00Z"}
    for path, params in [
        ("/v1/rota/on-shift", {"team": "nope"}),
        ("/v1/rota/schedule", {**day, "team": "nope"}),
        ("/v1/rota/gaps", {**day, "team": "nope"}),
        ("/v1/rota/fairness", {**day, "team": "nope"}),
    ]:
        assert_problem(await api.get(path, **params), 422, field="query.team")
