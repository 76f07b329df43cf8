"""Every rota write with bad input answers problem+json and writes nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from app.core.db import Database
from tests.conftest import Keys
from tests.rota_api.helpers import Api, assert_problem, rota_state, utc

GOOD_TEAM: dict[str, Any] = {
    "slug": "t",
    "name": "Team t",
    "time_zone": "UTC",
    "languages": ["en"],
    "coverage": [{"days": ["mon"], "start": "09:00", "end": "17:00", "min_staff": 1}],
}
GOOD_SPECIALIST: dict[str, Any] = {
    "name": "Eve",
    "contact": "+14155550100",
    "time_zone": "UTC",
    "languages": ["en"],
    "teams": ["t"],
}
RULES: dict[str, Any] = {"days": ["mon", "tue"], "start": "09:00", "end": "17:00"}


@dataclass
class Case:
    """One bad write: what to send and which problem it must get."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    params: dict[str, str] = field(default_factory=dict)
    # "current": the resource's real ETag; "stale": an old one; "*"; None: no If-Match.
    if_match: str | None = None
    status: int = 422
    field: str | None = None


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


def _rotation(**changes: Any) -> dict[str, Any]:
    return {"team": "t", "name": "new", "members": ["A", "B"], **RULES, **changes}


CASES: dict[str, Case] = {
    # Teams
    "team unknown tz": Case(
        "POST",
        "/v1/teams",
        _with(GOOD_TEAM, slug="n", time_zone="Mars/Olympus"),
        field="body.time_zone",
    ),
    "team tz abbreviation": Case(
        "POST", "/v1/teams", _with(GOOD_TEAM, slug="n", time_zone="CEST"), field="body.time_zone"
    ),
    "team coverage end 24:00": Case(
        "POST",
        "/v1/teams",
        _with(
            GOOD_TEAM,
            slug="n",
            coverage=[{"days": ["mon"], "start": "09:00", "end": "24:00", "min_staff": 1}],
        ),
        field="body.coverage[0].end",
    ),
    "team unknown holiday country": Case(
        "POST",
        "/v1/teams",
        _with(GOOD_TEAM, slug="n", holidays={"country": "XX"}),
        field="body.holidays",
    ),
    "team unknown holiday subdivision": Case(
        "POST",
        "/v1/teams",
        _with(GOOD_TEAM, slug="n", holidays={"country": "US", "subdivision": "ZZ"}),
        field="body.holidays",
    ),
    "team extra field": Case(
        "POST", "/v1/teams", _with(GOOD_TEAM, slug="n", colour="red"), field="body.colour"
    ),
    "team duplicate slug": Case("POST", "/v1/teams", GOOD_TEAM, status=409),
    "team put unknown tz": Case(
        "PUT",
        "/v1/teams/t",
        _with(GOOD_TEAM, time_zone="Europe/Nowhere"),
        if_match="current",
        field="body.time_zone",
    ),
    "team put stale if-match": Case(
        "PUT", "/v1/teams/t", _with(GOOD_TEAM, name="x"), if_match="stale", status=412
    ),
    "team put missing if-match": Case("PUT", "/v1/teams/t", _with(GOOD_TEAM, name="x"), status=428),
    "team put slug change": Case(
        "PUT", "/v1/teams/t", _with(GOOD_TEAM, slug="t2"), if_match="current", field="body.slug"
    ),
    # Specialists
    "specialist unknown tz": Case(
        "POST",
        "/v1/specialists",
        _with(GOOD_SPECIALIST, time_zone="Europe/Atlantis"),
        field="body.time_zone",
    ),
    "specialist contact +1 555": Case(
        "POST", "/v1/specialists", _with(GOOD_SPECIALIST, contact="+1 555"), field="body.contact"
    ),
    "specialist contact 12345": Case(
        "POST", "/v1/specialists", _with(GOOD_SPECIALIST, contact="12345"), field="body.contact"
    ),
    "specialist contact empty client": Case(
        "POST", "/v1/specialists", _with(GOOD_SPECIALIST, contact="client:"), field="body.contact"
    ),
    "specialist contact sip without host": Case(
        "POST",
        "/v1/specialists",
        _with(GOOD_SPECIALIST, contact="sip:nohost"),
        field="body.contact",
    ),
    "specialist unknown team": Case(
        "POST",
        "/v1/specialists",
        _with(GOOD_SPECIALIST, teams=["t", "nope"]),
        field="body.teams[1]",
    ),
    "specialist extra field": Case(
        "POST", "/v1/specialists", _with(GOOD_SPECIALIST, email="e@x.org"), field="body.email"
    ),
    "specialist put stale if-match": Case(
        "PUT",
        "/v1/specialists/{A}",
        _with(GOOD_SPECIALIST, name="A2"),
        if_match="stale",
        status=412,
    ),
    "specialist put missing if-match": Case(
        "PUT", "/v1/specialists/{A}", _with(GOOD_SPECIALIST, name="A2"), status=428
    ),
    "specialist put bad contact": Case(
        "PUT",
        "/v1/specialists/{A}",
        _with(GOOD_SPECIALIST, contact="12345"),
        if_match="current",
        field="body.contact",
    ),
    "specialist put leaves team of its rotation": Case(
        "PUT",
        "/v1/specialists/{A}",
        _with(GOOD_SPECIALIST, teams=["u"]),
        if_match="current",
        status=409,
    ),
    # Rotations
    "rotation end 25:00": Case("POST", "/v1/rotations", _rotation(end="25:00"), field="body.end"),
    "rotation end 24:00": Case("POST", "/v1/rotations", _rotation(end="24:00"), field="body.end"),
    "rotation end 9:00": Case("POST", "/v1/rotations", _rotation(end="9:00"), field="body.end"),
    "rotation start 9:00": Case(
        "POST", "/v1/rotations", _rotation(start="9:00"), field="body.start"
    ),
    "rotation member not in team": Case(
        "POST", "/v1/rotations", _rotation(members=["A", "D"]), field="body.members[1]"
    ),
    "rotation member unknown": Case(
        "POST", "/v1/rotations", _rotation(members=["A", 99999]), field="body.members[1]"
    ),
    "rotation unknown team": Case(
        "POST", "/v1/rotations", _rotation(team="nope"), field="body.team"
    ),
    "rotation duplicate members": Case(
        "POST", "/v1/rotations", _rotation(members=["A", "B", "A"]), field="body"
    ),
    "rotation per_occurrence above members": Case(
        "POST",
        "/v1/rotations",
        _rotation(assignment="turns", per_occurrence=3),
        field="body",
    ),
    "rotation until before from": Case(
        "POST",
        "/v1/rotations",
        _rotation(effective_from="2026-12-10T00:00:00Z", effective_until="2026-12-01T00:00:00Z"),
        field="body.effective_until",
    ),
    "rotation past without allow_past": Case(
        "POST",
        "/v1/rotations",
        _rotation(effective_from="2026-11-01T00:00:00Z"),
        field="body.effective_from",
    ),
    "rotation naive effective_from": Case(
        "POST",
        "/v1/rotations",
        _rotation(effective_from="2026-12-01T00:00:00"),
        field="body.effective_from",
    ),
    "rotation extra field": Case(
        "POST", "/v1/rotations", _rotation(colour="red"), field="body.colour"
    ),
    "rotation unknown weekday": Case(
        "POST", "/v1/rotations", _rotation(days=["mon", "funday"]), field="body.days[1]"
    ),
    "rotation lieu rule without earning": Case(
        "POST", "/v1/rotations", _rotation(lieu_rule="wed"), field="body"
    ),
    "rotation put stale if-match": Case(
        "PUT", "/v1/rotations/{rot}", {"members": ["A"], **RULES}, if_match="stale", status=412
    ),
    "rotation put missing if-match": Case(
        "PUT", "/v1/rotations/{rot}", {"members": ["A"], **RULES}, status=428
    ),
    "rotation put end 9:00": Case(
        "PUT",
        "/v1/rotations/{rot}",
        {"members": ["A"], **RULES, "end": "9:00"},
        if_match="current",
        field="body.end",
    ),
    "rotation put member of other team": Case(
        "PUT",
        "/v1/rotations/{rot}",
        {"members": ["A", "D"], **RULES},
        if_match="current",
        field="body.members[1]",
    ),
    "rotation put past without allow_past": Case(
        "PUT",
        "/v1/rotations/{rot}",
        {"members": ["A"], **RULES, "effective_from": "2026-11-10T00:00:00+01:00"},
        if_match="current",
        field="body.effective_from",
    ),
    "rotation put until before from": Case(
        "PUT",
        "/v1/rotations/{rot}",
        {
            "members": ["A"],
            **RULES,
            "effective_from": "2026-12-10T00:00:00Z",
            "effective_until": "2026-12-09T00:00:00Z",
        },
        if_match="current",
        field="body.effective_until",
    ),
    "rotation end missing if-match": Case("DELETE", "/v1/rotations/{rot}", status=428),
    "rotation end stale if-match": Case(
        "DELETE", "/v1/rotations/{rot}", if_match="stale", status=412
    ),
    "rotation end naive query": Case(
        "DELETE",
        "/v1/rotations/{rot}",
        params={"effective_from": "2026-12-01T00:00:00"},
        if_match="current",
        field="query.effective_from",
    ),
    "rotation end in the past": Case(
        "DELETE",
        "/v1/rotations/{rot}",
        params={"effective_from": "2026-11-10T00:00:00Z"},
        if_match="current",
        field="query.effective_from",
    ),
    # Overrides
    "leave overlapping leave": Case(
        "POST",
        "/v1/overrides",
        {
            "kind": "leave",
            "specialist_id": "A",
            "start": "2026-12-02T12:00:00Z",
            "end": "2026-12-05T00:00:00Z",
        },
        field="body.start",
    ),
    "swap without swap window": Case(
        "POST",
        "/v1/overrides",
        {
            "kind": "swap",
            "specialist_id": "A",
            "substitute_id": "B",
            "start": "2026-12-07T09:00:00Z",
            "end": "2026-12-07T17:00:00Z",
        },
        field="body",
    ),
    "cover by the same person": Case(
        "POST",
        "/v1/overrides",
        {
            "kind": "cover",
            "specialist_id": "A",
            "substitute_id": "A",
            "start": "2026-12-07T09:00:00Z",
            "end": "2026-12-07T17:00:00Z",
        },
        field="body",
    ),
    "cover naive start": Case(
        "POST",
        "/v1/overrides",
        {
            "kind": "cover",
            "specialist_id": "A",
            "substitute_id": "B",
            "start": "2026-12-07T09:00:00",
            "end": "2026-12-07T17:00:00Z",
        },
        field="body.start",
    ),
    "cover in the past": Case(
        "POST",
        "/v1/overrides",
        {
            "kind": "cover",
            "specialist_id": "A",
            "substitute_id": "B",
            "start": "2026-11-16T09:00:00Z",
            "end": "2026-11-16T17:00:00Z",
        },
        field="body.start",
    ),
    "cover by unknown specialist": Case(
        "POST",
        "/v1/overrides",
        {
            "kind": "cover",
            "specialist_id": "A",
            "substitute_id": 99999,
            "start": "2026-12-07T09:00:00Z",
            "end": "2026-12-07T17:00:00Z",
        },
        field="body.substitute_id",
    ),
    "extra without team": Case(
        "POST",
        "/v1/overrides",
        {
            "kind": "extra",
            "specialist_id": "A",
            "start": "2026-12-07T09:00:00Z",
            "end": "2026-12-07T17:00:00Z",
        },
        field="body",
    ),
    "extra for unknown team": Case(
        "POST",
        "/v1/overrides",
        {
            "kind": "extra",
            "specialist_id": "A",
            "team": "nope",
            "start": "2026-12-07T09:00:00Z",
            "end": "2026-12-07T17:00:00Z",
        },
        field="body.team",
    ),
    "extra by someone outside the team": Case(
        "POST",
        "/v1/overrides",
        {
            "kind": "extra",
            "specialist_id": "D",
            "team": "t",
            "start": "2026-12-07T09:00:00Z",
            "end": "2026-12-07T17:00:00Z",
        },
        field="body.specialist_id",
    ),
    "override end before start": Case(
        "POST",
        "/v1/overrides",
        {
            "kind": "leave",
            "specialist_id": "B",
            "start": "2026-12-07T09:00:00Z",
            "end": "2026-12-07T08:00:00Z",
        },
        field="body",
    ),
    "override extra field": Case(
        "POST",
        "/v1/overrides",
        {
            "kind": "leave",
            "specialist_id": "B",
            "start": "2026-12-07T09:00:00Z",
            "end": "2026-12-07T17:00:00Z",
            "approved": True,
        },
        field="body.approved",
    ),
    "override patch missing if-match": Case(
        "PATCH", "/v1/overrides/{leave2}", {"reason": "x"}, status=428
    ),
    "override patch stale if-match": Case(
        "PATCH", "/v1/overrides/{leave2}", {"reason": "x"}, if_match="stale", status=412
    ),
    "override patch into other leave": Case(
        "PATCH",
        "/v1/overrides/{leave2}",
        {"start": "2026-12-02T00:00:00Z"},
        if_match="current",
        field="body.start",
    ),
    "override patch naive end": Case(
        "PATCH",
        "/v1/overrides/{leave2}",
        {"end": "2026-12-20T00:00:00"},
        if_match="current",
        field="body.end",
    ),
    "override patch end before start": Case(
        "PATCH",
        "/v1/overrides/{leave2}",
        {"end": "2026-12-14T00:00:00Z"},
        if_match="current",
        field="body.end",
    ),
    "override delete missing if-match": Case("DELETE", "/v1/overrides/{leave2}", status=428),
    "override delete stale if-match": Case(
        "DELETE", "/v1/overrides/{leave2}", if_match="stale", status=412
    ),
    # Days off
    "day off unknown specialist": Case(
        "POST",
        "/v1/days-off",
        {"specialist_id": 99999, "day": "2026-12-09"},
        field="body.specialist_id",
    ),
    "day off in the past": Case(
        "POST", "/v1/days-off", {"specialist_id": "B", "day": "2026-11-18"}, field="body.day"
    ),
    "day off extra field": Case(
        "POST",
        "/v1/days-off",
        {"specialist_id": "B", "day": "2026-12-09", "paid": True},
        field="body.paid",
    ),
    "day off move missing if-match": Case(
        "PATCH", "/v1/days-off/{manual}", {"day": "2026-12-11"}, status=428
    ),
    "day off move stale if-match": Case(
        "PATCH", "/v1/days-off/{manual}", {"day": "2026-12-11"}, if_match="stale", status=412
    ),
    "day off move into the past": Case(
        "PATCH",
        "/v1/days-off/{manual}",
        {"day": "2026-11-18"},
        if_match="current",
        field="body.day",
    ),
    "day off cancel missing if-match": Case("DELETE", "/v1/days-off/{manual}", status=428),
    "day off move of no earning": Case(
        "PATCH",
        "/v1/days-off/lieu:{rot}:2026-11-23:{A}",
        {"day": "2026-12-11"},
        if_match="*",
        status=404,
    ),
    "day off cancel of no earning": Case(
        "DELETE", "/v1/days-off/lieu:{rot}:2026-11-22:{A}", if_match="*", status=404
    ),
    "day off unknown id": Case("DELETE", "/v1/days-off/manual:99999", if_match="*", status=404),
}


@pytest.fixture
async def api(client: httpx.AsyncClient, keys: Keys) -> Api:
    """A scheduler's API."""
    return Api(client, await keys.headers("scheduler"))


@pytest.fixture
async def ids(api: Api) -> dict[str, Any]:
    """A small rota: team t (A, B, C), team u (D), a rotation, leave, a manual day off."""
    await api.team("t", coverage=GOOD_TEAM["coverage"])
    await api.team("u")
    a, b, c = await api.people("t", "A", "B", "C")
    d = await api.specialist("D", ["u"])
    rot = await api.rotation("t", [a, b], effective_from=utc(2026, 11, 1))
    await api.override(kind="leave", specialist_id=a, start=utc(2026, 12, 1), end=utc(2026, 12, 3))
    (leave2,) = await api.override(
        kind="leave", specialist_id=a, start=utc(2026, 12, 15), end=utc(2026, 12, 17)
    )
    r = await api.client.post(
        "/v1/days-off", json={"specialist_id": b, "day": "2026-12-10"}, headers=api.h
    )
    assert r.status_code == 201, r.text
    return {
        "A": a,
        "B": b,
        "C": c,
        "D": d,
        "rot": rot["id"],
        "leave2": leave2["id"],
        "manual": r.json()["id"],
    }


def _resolve(value: Any, ids: dict[str, Any]) -> Any:
    if isinstance(value, str) and value in ("A", "B", "C", "D"):
        return ids[value]
    if isinstance(value, list):
        return [_resolve(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, ids) for k, v in value.items()}
    return value


async def _current_etag(api: Api, path: str) -> str:
    if path.startswith("/v1/days-off/"):
        return await api.etag(path + "/etag")
    return await api.etag(path)


async def _check(case: Case, api: Api, ids: dict[str, Any], db: Database) -> str | None:
    """Send one bad write; a description of what went wrong, or None."""
    path = case.path.format(**ids)
    headers = dict(api.h)
    if case.if_match == "*":
        headers["If-Match"] = "*"
    elif case.if_match is not None:
        current = await _current_etag(api, path)
        headers["If-Match"] = (
            current if case.if_match == "current" else re.sub(r"-v\d+\"$", '-v0"', current)
        )
    before = await rota_state(db)
    schedule_before = await api.schedule(utc(2026, 11, 16), utc(2027, 1, 4))
    r = await api.client.request(
        case.method, path, json=_resolve(case.body, ids), params=case.params, headers=headers
    )
    try:
        assert_problem(r, case.status, field=case.field)
    except AssertionError as exc:
        return f"{r.status_code} {r.text[:300]} ({exc})"
    if await rota_state(db) != before:
        return "the database changed"
    if await api.schedule(utc(2026, 11, 16), utc(2027, 1, 4)) != schedule_before:
        return "the schedule changed"
    return None


async def test_bad_writes_are_refused_and_write_nothing(
    api: Api, ids: dict[str, Any], db: Database
) -> None:
    """Each case in CASES (one shared rota, so the suite stays fast): problem+json, no change."""
    failures = {}
    for name, case in CASES.items():
        problem = await _check(case, api, ids, db)
        if problem is not None:
            failures[name] = problem
    assert not failures, "\n".join(f"{k}: {v}" for k, v in failures.items())


QUERY_CASES: list[tuple[str, dict[str, str], str]] = [
    ("/v1/rota/on-shift", {"at": "2026-11-20T10:00:00"}, "query.at"),
    (
        "/v1/rota/schedule",
        {"start": "2026-11-20T00:00:00", "end": "2026-11-21T00:00:00Z"},
        "query.start",
    ),
    (
        "/v1/rota/gaps",
        {"start": "2026-11-20T00:00:00Z", "end": "2026-11-21T00:00:00", "team": "t"},
        "query.end",
    ),
    (
        "/v1/rota/fairness",
        {"start": "2026-11-20T00:00:00", "end": "2026-11-21T00:00:00Z"},
        "query.start",
    ),
    ("/v1/rota/lieu-ledger", {"start": "2026-11-01T00:00:00"}, "query.start"),
    (
        "/v1/days-off",
        {"start": "2026-11-20T00:00:00", "end": "2026-11-21T00:00:00Z"},
        "query.start",
    ),
    ("/v1/overrides", {"start": "2026-11-20T00:00:00"}, "query.start"),
    ("/v1/audit", {"start": "2026-11-20T00:00:00"}, "query.start"),
    ("/v1/rota/on-shift", {"at": "yesterday"}, "query.at"),
    (
        "/v1/rota/schedule",
        {"start": "2026-11-21T00:00:00Z", "end": "2026-11-20T00:00:00Z"},
        "query.end",
    ),
]


async def test_query_instants_need_an_offset(api: Api) -> None:
    """Naive or malformed instants in a query string are 422 problems naming the parameter."""
    await api.team("t")
    for path, params, field_name in QUERY_CASES:
        r = await api.client.get(path, params=params, headers=api.h)
        assert_problem(r, 422, field=field_name)


async def test_swap_whose_second_half_is_invalid_writes_nothing(
    api: Api, ids: dict[str, Any], db: Database
) -> None:
    """The giving-back half of a swap is checked like the first: nothing is half-written."""
    before = await rota_state(db)
    base = {
        "kind": "swap",
        "specialist_id": ids["A"],
        "substitute_id": ids["B"],
        "start": "2026-12-07T09:00:00Z",
        "end": "2026-12-07T17:00:00Z",
    }
    # The shift given back lies in the past.
    r = await api.client.post(
        "/v1/overrides",
        json={**base, "swap_start": "2026-11-16T09:00:00Z", "swap_end": "2026-11-16T17:00:00Z"},
        headers=api.h,
    )
    assert_problem(r, 422, field="body.swap_start")
    # The window given back ends before it starts.
    r = await api.client.post(
        "/v1/overrides",
        json={**base, "swap_start": "2026-12-08T17:00:00Z", "swap_end": "2026-12-08T09:00:00Z"},
        headers=api.h,
    )
    assert_problem(r, 422, field="body")
    # For a team, both people must belong to it: C's team-mate D is in team u only.
    r = await api.client.post(
        "/v1/overrides",
        json={
            **base,
            "specialist_id": ids["D"],
            "substitute_id": ids["A"],
            "team": "t",
            "swap_start": "2026-12-08T09:00:00Z",
            "swap_end": "2026-12-08T17:00:00Z",
        },
        headers=api.h,
    )
    assert_problem(r, 422, field="body.specialist_id")
    assert await rota_state(db) == before
