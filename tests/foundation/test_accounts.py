"""Accounts: CRUD, phone matching, validation that writes nothing, bulk upsert, notes."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from app.accounts.numbers import is_valid_account_number
from app.core.db import Database
from app.models.account import Account, AccountNote

PROBLEM = "application/problem+json"


async def _count(db: Database) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Account)) or 0)


async def test_create_read_update_delete(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    created = await client.post(
        "/v1/accounts",
        json={
            "name": "Acme",
            "tier": "paid",
            "preferred_language": "en",
            "phones": ["(415) 555-0199", "+44 20 7946 0958"],
            "external_ref": "crm-1",
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["phones"] == ["+14155550199", "+442079460958"]
    assert is_valid_account_number(body["number"]) and len(body["number"]) == 7
    assert created.headers["location"] == f"/v1/accounts/{body['id']}"
    etag = created.headers["etag"]

    got = await client.get(f"/v1/accounts/{body['id']}", headers=admin)
    assert got.json() == body
    assert got.headers["etag"] == etag

    patched = await client.patch(
        f"/v1/accounts/{body['id']}",
        json={"tier": "standard", "phones": ["+1 415 555 0100"]},
        headers={**admin, "If-Match": etag},
    )
    assert patched.status_code == 200
    assert patched.json()["tier"] == "standard"
    assert patched.json()["phones"] == ["+14155550100"]
    assert patched.headers["etag"] != etag

    stale = await client.patch(
        f"/v1/accounts/{body['id']}", json={"name": "B"}, headers={**admin, "If-Match": etag}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM

    deleted = await client.delete(f"/v1/accounts/{body['id']}", headers=admin)
    assert deleted.status_code == 204
    missing = await client.get(f"/v1/accounts/{body['id']}", headers=admin)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "X", "phones": ["12"]}, "body.phones[0]"),
        ({"name": "X", "phones": ["+1 415 555 0199", "not a phone"]}, "body.phones[1]"),
        ({"name": "X", "tier": "gold"}, "body.tier"),
        ({"name": ""}, "body.name"),
        ({"name": "X", "preferred_language": "english!"}, "body.preferred_language"),
        ({"name": "X", "colour": "red"}, "body.colour"),
        ({"name": "X", "number": "12a"}, "body.number"),
    ],
)
async def test_invalid_create_writes_nothing(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    db: Database,
    payload: dict[str, object],
    field: str,
) -> None:
    response = await client.post("/v1/accounts", json=payload, headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "/problems/validation-error"
    assert field in [e["field"] for e in problem["errors"]]
    assert await _count(db) == 0


async def test_invalid_json_is_a_problem(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.post(
        "/v1/accounts", content=b"{not json", headers={**admin, "content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


async def test_duplicate_external_ref_is_409(
    client: httpx.AsyncClient, admin: dict[str, str], db: Database
) -> None:
    first = await client.post(
        "/v1/accounts", json={"name": "A", "external_ref": "r"}, headers=admin
    )
    assert first.status_code == 201
    again = await client.post(
        "/v1/accounts", json={"name": "B", "external_ref": "r"}, headers=admin
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert "external_ref" in again.json()["detail"]
    assert await _count(db) == 1


@pytest.mark.parametrize(
    "phone", ["+1 (415) 555-0199", "14155550199", "+14155550199", "4155550199"]
)
async def test_lookup_matches_however_formatted(
    client: httpx.AsyncClient, admin: dict[str, str], phone: str
) -> None:
    created = (
        await client.post(
            "/v1/accounts", json={"name": "Acme", "phones": ["+14155550199"]}, headers=admin
        )
    ).json()
    found = await client.get("/v1/accounts/lookup", params={"phone": phone}, headers=admin)
    assert found.status_code == 200
    assert [a["id"] for a in found.json()] == [created["id"]]


async def test_lookup_zero_and_several(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    for name in ("Harbor Bikes", "Harbor Kayaks"):
        await client.post(
            "/v1/accounts", json={"name": name, "phones": ["+14155550142"]}, headers=admin
        )
    shared = await client.get("/v1/accounts/lookup?phone=4155550142", headers=admin)
    assert [a["name"] for a in shared.json()] == ["Harbor Bikes", "Harbor Kayaks"]
    none = await client.get("/v1/accounts/lookup?phone=4155550000", headers=admin)
    assert none.json() == []
    bad = await client.get("/v1/accounts/lookup?phone=hello", headers=admin)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.phone"


async def test_list_filters_and_pagination(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for i in range(5):
        await client.post(
            "/v1/accounts",
            json={"name": f"Shop {i}", "tier": "paid" if i % 2 else "standard"},
            headers=admin,
        )
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/accounts", params=params, headers=admin)).json()
        seen += [a["name"] for a in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"Shop {i}" for i in range(5)]
    paid = (await client.get("/v1/accounts?tier=paid", headers=admin)).json()
    assert [a["name"] for a in paid["items"]] == ["Shop 1", "Shop 3"]
    named = (await client.get("/v1/accounts?q=shop 4", headers=admin)).json()
    assert [a["name"] for a in named["items"]] == ["Shop 4"]


@pytest.mark.parametrize("cursor", ["garbage!!", "eyJ4IjoxfQ", "bm90IGpzb24"])
async def test_bad_cursor_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], cursor: str
) -> None:
    response = await client.get("/v1/accounts", params={"cursor": cursor}, headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == "query.cursor"


async def test_bad_limit_is_422(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get("/v1/accounts?limit=0", headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.limit"


def _rows(n: int) -> list[dict[str, object]]:
    return [
        {
            "external_ref": f"crm-{i}",
            "name": f"Customer {i}",
            "tier": "paid" if i % 10 == 0 else "standard",
            "phones": [f"+1415555{i:04d}"],
        }
        for i in range(n)
    ]


async def test_bulk_upsert_of_1000_with_one_bad_row_writes_none(
    client: httpx.AsyncClient, admin: dict[str, str], db: Database
) -> None:
    rows = _rows(1000)
    rows[617]["phones"] = ["+1 555"]
    rows[900]["tier"] = "platinum"
    response = await client.put("/v1/accounts:bulk", json={"accounts": rows}, headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["body.accounts[617].phones[0]", "body.accounts[900].tier"]
    assert await _count(db) == 0


async def test_bulk_upsert_creates_updates_and_is_idempotent(
    client: httpx.AsyncClient, admin: dict[str, str], db: Database
) -> None:
    rows = _rows(1000)
    first = await client.put("/v1/accounts:bulk", json={"accounts": rows}, headers=admin)
    assert first.status_code == 200, first.text
    assert first.json()["created"] == 1000
    assert await _count(db) == 1000
    rows[3]["name"] = "Renamed"
    second = await client.put("/v1/accounts:bulk", json={"accounts": rows}, headers=admin)
    result = second.json()
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 1, 999)
    lookup = await client.get("/v1/accounts/lookup?phone=14155550003", headers=admin)
    assert [a["name"] for a in lookup.json()] == ["Renamed"]


async def test_bulk_rejects_duplicate_refs_in_one_batch(
    client: httpx.AsyncClient, admin: dict[str, str], db: Database
) -> None:
    rows = [{"external_ref": "a", "name": "A"}, {"external_ref": "a", "name": "B"}]
    response = await client.put("/v1/accounts:bulk", json={"accounts": rows}, headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.accounts[1].external_ref"
    assert await _count(db) == 0


async def test_notes_and_history_newest_first(
    client: httpx.AsyncClient, admin: dict[str, str], clock: object, db: Database
) -> None:
    from datetime import timedelta

    from app.core.clock import FixedClock

    assert isinstance(clock, FixedClock)
    account = (await client.post("/v1/accounts", json={"name": "A"}, headers=admin)).json()
    for text in ("first", "second"):
        response = await client.post(
            f"/v1/accounts/{account['id']}/notes", json={"body": text}, headers=admin
        )
        assert response.status_code == 201
        assert response.json()["author"] == "admin-key"
        clock.advance(timedelta(minutes=1))
    history = (await client.get(f"/v1/accounts/{account['id']}/history", headers=admin)).json()
    assert [e["note"]["body"] for e in history["entries"]] == ["second", "first"]
    empty = await client.post(
        f"/v1/accounts/{account['id']}/notes", json={"body": "  "}, headers=admin
    )
    assert empty.status_code == 422
    missing = await client.post("/v1/accounts/999/notes", json={"body": "x"}, headers=admin)
    assert missing.status_code == 404
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(AccountNote)) == 2


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/accounts/99999999999999999999", None),
        ("GET", "/v1/accounts/2147483648", None),
        ("DELETE", "/v1/api-keys/2147483648", None),
        ("POST", "/v1/api-keys", {"name": "s", "role": "specialist", "specialist_id": 2**31}),
    ],
)
async def test_ids_beyond_32_bits_are_422_not_500(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    method: str,
    path: str,
    body: dict[str, object] | None,
) -> None:
    response = await client.request(method, path, json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
