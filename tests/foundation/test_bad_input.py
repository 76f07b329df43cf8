"""Out-of-range numbers, extreme instants and NUL characters get a 422 naming the field (12.3)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Keys

PROBLEM = "application/problem+json"
TEAM = {"slug": "t", "name": "Team t", "time_zone": "UTC", "languages": ["en"], "coverage": []}

# Every endpoint that takes an instant, with the parameter holding it and the others it needs.
TIME_TAKING: list[tuple[str, str, dict[str, str]]] = [
    ("/v1/rota/on-shift", "at", {}),
    ("/v1/rota/schedule", "start", {"end": "2026-11-21T00:00:00Z"}),
    ("/v1/rota/schedule", "end", {"start": "2026-11-20T00:00:00Z"}),
    ("/v1/rota/gaps", "start", {"end": "2026-11-21T00:00:00Z", "team": "t"}),
    ("/v1/rota/fairness", "start", {"end": "2026-11-21T00:00:00Z"}),
    ("/v1/rota/fairness", "end", {"start": "2026-11-20T00:00:00Z"}),
    ("/v1/rota/lieu-ledger", "start", {}),
    ("/v1/rota/lieu-ledger", "end", {}),
    ("/v1/days-off", "start", {"end": "2026-11-21T00:00:00Z"}),
    ("/v1/days-off", "end", {"start": "2026-11-20T00:00:00Z"}),
    ("/v1/overrides", "start", {}),
    ("/v1/overrides", "end", {}),
    ("/v1/routing/explain", "at", {"team": "t", "language": "en"}),
    ("/v1/calls", "start", {}),
    ("/v1/calls", "end", {}),
    ("/v1/audit", "start", {}),
    ("/v1/audit", "end", {}),
    ("/v1/reports/summary", "start", {"end": "2026-11-21"}),
    ("/v1/reports/summary", "end", {"start": "2026-11-20"}),
]
EXTREMES = ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+10:00"]


def assert_refused(answer: httpx.Response, field: str) -> None:
    """A 422 problem whose errors name the field."""
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM
    fields = [e["field"] for e in answer.json().get("errors", [])]
    assert field in fields, answer.json()


@pytest.fixture
async def admin_with_team(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, str]:
    """Admin headers, with team t existing."""
    made = await client.post("/v1/teams", json=TEAM, headers=admin)
    assert made.status_code == 201, made.text
    return admin


@pytest.mark.parametrize(("path", "name", "others"), TIME_TAKING)
async def test_instants_outside_the_supported_range_are_refused(
    client: httpx.AsyncClient,
    admin_with_team: dict[str, str],
    path: str,
    name: str,
    others: dict[str, str],
) -> None:
    for extreme in EXTREMES:
        answer = await client.get(path, params={**others, name: extreme}, headers=admin_with_team)
        assert_refused(answer, f"query.{name}")


async def test_instants_and_dates_in_bodies_are_bounded(
    client: httpx.AsyncClient, admin_with_team: dict[str, str]
) -> None:
    sam = await client.post(
        "/v1/specialists",
        json={
            "name": "Sam",
            "contact": "+14155550100",
            "time_zone": "UTC",
            "languages": ["en"],
            "skills": [],
            "teams": ["t"],
        },
        headers=admin_with_team,
    )
    assert sam.status_code == 201, sam.text
    who = sam.json()["id"]
    override = await client.post(
        "/v1/overrides",
        json={
            "kind": "extra",
            "specialist_id": who,
            "team": "t",
            "start": "9999-12-31T00:00:00Z",
            "end": "9999-12-31T23:59:59Z",
        },
        headers=admin_with_team,
    )
    assert_refused(override, "body.start")
    day_off = await client.post(
        "/v1/days-off", json={"specialist_id": who, "day": "9999-12-31"}, headers=admin_with_team
    )
    assert_refused(day_off, "body.day")
    rotation = await client.post(
        "/v1/rotations",
        json={
            "team": "t",
            "name": "r",
            "members": [who],
            "days": ["mon"],
            "start": "09:00",
            "end": "17:00",
            "starts_on": "0001-01-01",
        },
        headers=admin_with_team,
    )
    assert_refused(rotation, "body.starts_on")


@pytest.mark.parametrize("name", ["account", "specialist"])
async def test_integer_parameters_are_bounded_like_ids(
    client: httpx.AsyncClient, admin: dict[str, str], name: str
) -> None:
    for value in ("2147483648", "-1", "0"):
        answer = await client.get("/v1/calls", params={name: value}, headers=admin)
        assert_refused(answer, f"query.{name}")
    fine = await client.get("/v1/calls", params={name: "2147483647"}, headers=admin)
    assert fine.status_code == 200, fine.text


async def test_claimed_by_is_bounded(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    answer = await client.get("/v1/callbacks", params={"claimed_by": "9999999999"}, headers=admin)
    assert_refused(answer, "query.claimed_by")


NUL_REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/v1/accounts", {"params": {"q": "a\x00"}}),
    ("GET", "/v1/accounts", {"params": {"external_ref": "\x00"}}),
    ("GET", "/v1/calls", {"params": {"team": "x\x00y"}}),
    ("GET", "/v1/specialists", {"params": {"skill": "\x00"}}),
    ("GET", "/v1/audit", {"params": {"actor": "\x00"}}),
    ("GET", "/v1/teams/a%00b", {}),
    ("GET", "/v1/calls/CA%00", {}),
    ("POST", "/v1/accounts", {"json": {"name": "a\x00"}}),
    ("PUT", "/v1/accounts:bulk", {"json": {"accounts": [{"external_ref": "x", "name": "\x00"}]}}),
    ("POST", "/v1/teams", {"json": {**TEAM, "slug": "u", "name": "Team\x00"}}),
    ("POST", "/v1/api-keys", {"json": {"name": "k\x00", "role": "viewer"}}),
]
NUL_FIELDS = [
    "query.q",
    "query.external_ref",
    "query.team",
    "query.skill",
    "query.actor",
    "path",
    "path",
    "body.name",
    "body.accounts[0].name",
    "body.name",
    "body.name",
]


@pytest.mark.parametrize(("request_", "field"), list(zip(NUL_REQUESTS, NUL_FIELDS, strict=True)))
async def test_a_nul_character_is_refused_with_a_422(
    client: httpx.AsyncClient,
    keys: Keys,
    request_: tuple[str, str, dict[str, Any]],
    field: str,
) -> None:
    method, path, kwargs = request_
    headers = await keys.headers("admin")
    answer = await client.request(method, path, headers=headers, **kwargs)
    assert_refused(answer, field)


async def test_percent_and_underscore_in_the_account_search_are_literal(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for name in ("100% Coffee", "Acme_Labs", "AcmeXLabs", "Plain"):
        made = await client.post("/v1/accounts", json={"name": name}, headers=admin)
        assert made.status_code == 201, made.text

    async def found(q: str) -> list[str]:
        answer = await client.get("/v1/accounts", params={"q": q}, headers=admin)
        assert answer.status_code == 200, answer.text
        return sorted(a["name"] for a in answer.json()["items"])

    assert await found("%") == ["100% Coffee"]
    assert await found("_") == ["Acme_Labs"]
    assert await found("e_l") == ["Acme_Labs"]
    assert await found("acme") == ["AcmeXLabs", "Acme_Labs"]
