"""docs/roles.md says exactly what each role may do: every row is checked against the code,
and the API is called with each role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.core.db import Database
from app.models.account import Account
from app.models.call import Call
from tests.conftest import Keys

DOC = Path(__file__).resolve().parents[2] / "docs" / "roles.md"
ROW = re.compile(r"^\| `(GET|POST|PUT|PATCH|DELETE) (/v1/[^`]*)` \| ([a-z, ]+) \|$")
ROLES = ("admin", "scheduler", "specialist", "viewer")


def documented() -> dict[tuple[str, str], set[str]]:
    """(method, path) -> roles, from the doc's tables."""
    rows: dict[tuple[str, str], set[str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        found = ROW.match(line)
        if found:
            method, path, roles = found.groups()
            rows[(method, path)] = {r.strip() for r in roles.split(",")}
    return rows


def _routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _routes(route.original_router.routes)


def _required(dependant: Any) -> set[str] | None:
    """The roles a route's require_role dependency lets through (None: no such check)."""
    for dependency in dependant.dependencies:
        call = dependency.call
        qualname = getattr(call, "__qualname__", "")  # a security scheme object has none
        if call is not None and qualname.endswith("require_role.<locals>._check"):
            for cell in call.__closure__ or ():
                if isinstance(cell.cell_contents, tuple):
                    return set(cell.cell_contents)
        inner = _required(dependency)
        if inner is not None:
            return inner
    return None


def test_the_doc_lists_every_endpoint_of_the_main_resources() -> None:
    rows = documented()
    assert len(rows) >= 60
    for resource in ("accounts", "calls", "callbacks", "reports", "teams", "closures"):
        assert any(path.startswith(f"/v1/{resource}") for _, path in rows), resource


def test_every_documented_row_is_what_the_code_enforces(app: FastAPI) -> None:
    enforced = {
        (method, route.path): _required(route.dependant)
        for route in _routes(list(app.routes))
        for method in route.methods
    }
    for key, roles in documented().items():
        assert key in enforced, f"{key} is documented but not served"
        assert enforced[key] == roles, (key, enforced[key], roles)


@pytest.fixture
async def one_call(db: Database) -> dict[str, int]:
    """An account and a call that no specialist took."""
    now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    async with db.transaction() as session:
        account = Account(
            number="1000017", name="Acme", tier="standard", created_at=now, updated_at=now
        )
        session.add(account)
        await session.flush()
        session.add(
            Call(
                sid="CA" + "5" * 32,
                from_number="+14155550100",
                to_number="+18005550100",
                account_id=account.id,
                status="completed",
                started_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    return {"account": account.id}


DAYS = "start=2026-11-19&end=2026-11-21"
CALLS: list[tuple[str, str, set[str]]] = [
    ("GET", "/v1/accounts", {"admin", "specialist"}),
    ("GET", "/v1/accounts/{account}/history", {"admin", "specialist"}),
    ("GET", "/v1/calls", {"admin", "scheduler", "specialist"}),
    ("GET", "/v1/callbacks", {"admin", "scheduler", "specialist"}),
    (
        "GET",
        "/v1/reports/summary?start=2026-11-19&end=2026-11-21",
        {"admin", "scheduler", "viewer"},
    ),
    (
        "GET",
        "/v1/reports/specialists?start=2026-11-19&end=2026-11-21",
        {"admin", "scheduler", "viewer"},
    ),
    ("GET", "/v1/teams", {"admin", "scheduler", "specialist"}),
    ("GET", "/v1/audit", {"admin", "scheduler"}),
    ("GET", "/v1/closures", {"admin", "scheduler", "specialist"}),
    ("GET", "/v1/api-keys", {"admin"}),
]


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_reads_what_the_doc_says(
    client: httpx.AsyncClient, keys: Keys, one_call: dict[str, int], role: str
) -> None:
    headers = await keys.headers(role)
    for method, path, allowed in CALLS:
        url = path.format(**one_call)
        answer = await client.request(method, url, headers=headers)
        if role in allowed:
            assert answer.status_code == 200, (role, url, answer.text)
        else:
            assert answer.status_code == 403, (role, url, answer.status_code)
            assert answer.headers["content-type"] == "application/problem+json"


async def test_a_specialist_reads_every_call_and_account_not_only_their_own(
    client: httpx.AsyncClient, keys: Keys, one_call: dict[str, int]
) -> None:
    headers = await keys.headers("specialist")
    calls = (await client.get("/v1/calls", headers=headers)).json()["items"]
    assert [c["sid"] for c in calls] == ["CA" + "5" * 32]  # taken by nobody, still listed
    account = await client.get(f"/v1/accounts/{one_call['account']}", headers=headers)
    assert account.status_code == 200
    note = await client.post(
        f"/v1/accounts/{one_call['account']}/notes", json={"body": "Called back."}, headers=headers
    )
    assert note.status_code == 201
    # ... but only their own schedule.
    other = await client.get(
        "/v1/rota/schedule",
        params={"start": "2026-11-20T00:00:00Z", "end": "2026-11-21T00:00:00Z", "specialist": 999},
        headers=headers,
    )
    assert other.status_code == 403


async def test_no_key_is_401(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/calls")).status_code == 401
