"""API keys: hashed storage, 401 without a valid key, 403 for the wrong role."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from app.auth.keys import hash_key
from app.core.clock import FixedClock
from app.core.db import Database
from app.models.api_key import ApiKey
from tests.conftest import Keys, make_specialist

PROBLEM = "application/problem+json"


async def test_no_key_is_401_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/accounts")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


@pytest.mark.parametrize("header", ["Bearer sb_nope", "Basic abc", "Bearer", "sb_x"])
async def test_invalid_key_is_401(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get("/v1/accounts", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM


async def test_keys_are_stored_hashed_and_shown_once(
    client: httpx.AsyncClient, admin: dict[str, str], db: Database
) -> None:
    response = await client.post(
        "/v1/api-keys", json={"name": "scheduler bot", "role": "scheduler"}, headers=admin
    )
    assert response.status_code == 201
    secret = response.json()["key"]
    assert secret.startswith("sb_")
    async with db.transaction() as session:
        rows = list(await session.scalars(select(ApiKey)))
    assert all(secret not in (r.key_hash, r.prefix, r.name) for r in rows)
    assert hash_key(secret) in {r.key_hash for r in rows}
    listing = await client.get("/v1/api-keys", headers=admin)
    assert secret not in listing.text
    assert {k["name"] for k in listing.json()["items"]} == {"admin-key", "scheduler bot"}
    ok = await client.get("/v1/rota-does-not-exist", headers={"Authorization": f"Bearer {secret}"})
    assert ok.status_code == 404


async def test_revoked_key_stops_working(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    created = (
        await client.post("/v1/api-keys", json={"name": "temp", "role": "admin"}, headers=admin)
    ).json()
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert (await client.get("/v1/accounts", headers=headers)).status_code == 200
    revoked = await client.delete(f"/v1/api-keys/{created['id']}", headers=admin)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert (await client.get("/v1/accounts", headers=headers)).status_code == 401
    missing = await client.delete("/v1/api-keys/9999", headers=admin)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM


async def test_specialist_key_needs_a_specialist_link(
    client: httpx.AsyncClient, admin: dict[str, str], db: Database, clock: FixedClock
) -> None:
    bad = await client.post("/v1/api-keys", json={"name": "s", "role": "specialist"}, headers=admin)
    assert bad.status_code == 422
    assert bad.headers["content-type"] == PROBLEM
    other = await client.post(
        "/v1/api-keys", json={"name": "v", "role": "viewer", "specialist_id": 3}, headers=admin
    )
    assert other.status_code == 422
    missing = await client.post(
        "/v1/api-keys", json={"name": "s", "role": "specialist", "specialist_id": 3}, headers=admin
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "body.specialist_id"
    async with db.transaction() as session:
        specialist_id = await make_specialist(session, clock)
    good = await client.post(
        "/v1/api-keys",
        json={"name": "s", "role": "specialist", "specialist_id": specialist_id},
        headers=admin,
    )
    assert good.status_code == 201
    assert good.json()["specialist_id"] == specialist_id
    unknown_role = await client.post(
        "/v1/api-keys", json={"name": "x", "role": "root"}, headers=admin
    )
    assert unknown_role.status_code == 422
    assert unknown_role.json()["errors"][0]["field"] == "body.role"


# (role, method, path, json, expected status)
MATRIX = [
    ("admin", "GET", "/v1/api-keys", None, 200),
    ("scheduler", "GET", "/v1/api-keys", None, 403),
    ("specialist", "GET", "/v1/api-keys", None, 403),
    ("viewer", "GET", "/v1/api-keys", None, 403),
    ("scheduler", "POST", "/v1/api-keys", {"name": "x", "role": "admin"}, 403),
    ("admin", "GET", "/v1/accounts", None, 200),
    ("specialist", "GET", "/v1/accounts", None, 200),
    ("scheduler", "GET", "/v1/accounts", None, 403),
    ("viewer", "GET", "/v1/accounts", None, 403),
    ("admin", "POST", "/v1/accounts", {"name": "A"}, 201),
    ("specialist", "POST", "/v1/accounts", {"name": "A"}, 403),
    ("scheduler", "POST", "/v1/accounts", {"name": "A"}, 403),
    ("viewer", "POST", "/v1/accounts", {"name": "A"}, 403),
    ("specialist", "PUT", "/v1/accounts:bulk", {"accounts": []}, 403),
    ("admin", "PUT", "/v1/accounts:bulk", {"accounts": []}, 200),
    ("specialist", "GET", "/v1/accounts/lookup?phone=%2B14155550199", None, 200),
    ("viewer", "GET", "/v1/accounts/lookup?phone=%2B14155550199", None, 403),
]


@pytest.mark.parametrize(("role", "method", "path", "body", "expected"), MATRIX)
async def test_role_matrix(
    client: httpx.AsyncClient,
    keys: Keys,
    role: str,
    method: str,
    path: str,
    body: dict[str, object] | None,
    expected: int,
) -> None:
    headers = await keys.headers(role)
    response = await client.request(method, path, json=body, headers=headers)
    assert response.status_code == expected, response.text
    if expected == 403:
        assert response.headers["content-type"] == PROBLEM
        assert role in response.json()["detail"]


async def test_notes_allowed_for_specialists_refused_for_viewers(
    client: httpx.AsyncClient, admin: dict[str, str], keys: Keys
) -> None:
    account = (await client.post("/v1/accounts", json={"name": "N"}, headers=admin)).json()
    specialist = await keys.headers("specialist")
    viewer = await keys.headers("viewer")
    path = f"/v1/accounts/{account['id']}/notes"
    added = await client.post(path, json={"body": "called back, fixed"}, headers=specialist)
    assert added.status_code == 201, added.text
    assert (added.json()["body"], added.json()["author"]) == (
        "called back, fixed",
        "specialist-key",
    )
    refused = await client.post(path, json={"body": "not mine to add"}, headers=viewer)
    assert refused.status_code == 403
    # The specialist's note is stored in the account's history; the viewer's is not.
    history = await client.get(f"/v1/accounts/{account['id']}/history", headers=admin)
    notes = [e["note"] for e in history.json()["entries"] if e.get("note")]
    assert [(n["body"], n["author"]) for n in notes] == [("called back, fixed", "specialist-key")]
