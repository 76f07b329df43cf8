"""`/v1/calls`: filters, cursor pagination, detail, roles."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from app.calls import service
from app.core.clock import FixedClock
from app.core.db import Database
from app.models.account import Account
from app.models.call import Call
from tests.conftest import Keys, make_specialist


async def _seed(db: Database, clock: FixedClock) -> dict[str, int]:
    """Five calls an hour apart (oldest first) with varied account, handler, status, team."""
    now = clock.now()
    async with db.transaction() as session:
        account = Account(
            number="1000019", name="Acme", tier="paid", created_at=now, updated_at=now
        )
        session.add(account)
        specialist = await make_specialist(session, clock, name="Ann")
        await session.flush()
        rows: list[Call] = []
        for i in range(5):
            call = service.open_call(
                session,
                sid=f"CA{i:032d}",
                from_number="+14155550100",
                to_number="+18005550100",
                status="completed" if i % 2 == 0 else "in-progress",
                now=now - timedelta(hours=5 - i),
            )
            call.account_id = account.id if i < 3 else None
            call.team = "support-en" if i != 1 else "paid-support"
            call.outcome = "answered" if i in (0, 4) else None
            call.answered_by_id = specialist if i in (0, 4) else None
            rows.append(call)
        await session.flush()
        return {"account": account.id, "specialist": specialist}


def _sids(body: dict[str, object]) -> list[str]:
    items = body["items"]
    assert isinstance(items, list)
    return [str(item["sid"])[-1] for item in items]


async def test_filters(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, admin: dict[str, str]
) -> None:
    ids = await _seed(db, clock)

    async def listed(**params: object) -> list[str]:
        answer = await client.get("/v1/calls", params=params, headers=admin)
        assert answer.status_code == 200, answer.text
        return _sids(answer.json())

    assert await listed() == ["4", "3", "2", "1", "0"]  # newest first
    assert await listed(account=ids["account"]) == ["2", "1", "0"]
    assert await listed(specialist=ids["specialist"]) == ["4", "0"]
    assert await listed(status="in-progress") == ["3", "1"]
    assert await listed(outcome="answered") == ["4", "0"]
    assert await listed(team="paid-support") == ["1"]
    start = (clock.now() - timedelta(hours=4)).isoformat()
    end = (clock.now() - timedelta(hours=2)).isoformat()
    assert await listed(start=start, end=end) == ["2", "1"]
    assert await listed(start=start, end=end, team="support-en") == ["2"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-11-20T10:00:00"}, "query.start"),  # no offset
        ({"start": "2026-11-20T10:00:00Z", "end": "2026-11-20T09:00:00Z"}, "query.end"),
        ({"status": "answered"}, "query.status"),
        ({"limit": 0}, "query.limit"),
        ({"cursor": "nonsense"}, "query.cursor"),
    ],
)
async def test_bad_filters_are_problems(
    client: httpx.AsyncClient, admin: dict[str, str], params: dict[str, object], field: str
) -> None:
    answer = await client.get("/v1/calls", params=params, headers=admin)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in answer.json()["errors"]] == [field]


async def test_cursor_pagination(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, admin: dict[str, str]
) -> None:
    await _seed(db, clock)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, object] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = (await client.get("/v1/calls", params=params, headers=admin)).json()
        seen += _sids(body)
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["4", "3", "2", "1", "0"] and pages == 3


async def test_detail_and_roles(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, keys: Keys
) -> None:
    await _seed(db, clock)
    sid = f"CA{0:032d}"
    for role in ("admin", "scheduler", "specialist"):
        headers = await keys.headers(role)
        answer = await client.get(f"/v1/calls/{sid}", headers=headers)
        assert answer.status_code == 200, (role, answer.text)
        body = answer.json()
        assert body["outcome"] == "answered" and body["path"] == [] and body["attempts"] == []
        assert datetime.fromisoformat(body["started_at"]) == clock.now() - timedelta(hours=5)
    viewer = await keys.headers("viewer")
    assert (await client.get("/v1/calls", headers=viewer)).status_code == 403
    assert (await client.get("/v1/calls")).status_code == 401
    missing = await client.get("/v1/calls/CA404", headers=await keys.headers("admin"))
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
