"""Reading the work list: filters, oldest-first pages, one item with its ETag, who may read."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from app.core.clock import FixedClock
from app.core.db import Database
from tests.worklist.conftest import Staff, add_account, add_item, ok, problem


async def _ids(client: httpx.AsyncClient, query: str, headers: dict[str, str]) -> list[int]:
    body = ok(await client.get(f"/v1/callbacks{query}", headers=headers))
    return [item["id"] for item in body["items"]]


async def test_open_items_paid_first_then_oldest_filtered_by_team_language_kind_account(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, staff: Staff
) -> None:
    now = clock.now()
    acme = await add_account(db, now, "Acme", tier="paid")
    newest = await add_item(db, now, age=timedelta(minutes=1), account_id=acme)
    oldest = await add_item(db, now, age=timedelta(hours=2))
    japanese = await add_item(db, now, age=timedelta(hours=1), team="support-ja", language="ja")
    callback = await add_item(db, now, kind="callback", age=timedelta(minutes=30))
    await add_item(db, now, status="done", outcome="resolved", age=timedelta(hours=3))
    await add_item(db, now, status="claimed", claimed_by_id=staff.ann, age=timedelta(hours=4))

    # Paid customers first (Acme is paid), then oldest first.
    assert await _ids(client, "", staff.as_bob) == [newest, oldest, japanese, callback]
    assert await _ids(client, "?team=support-en", staff.as_bob) == [newest, oldest, callback]
    assert await _ids(client, "?language=ja", staff.as_bob) == [japanese]
    assert await _ids(client, "?kind=callback", staff.as_bob) == [callback]
    assert await _ids(client, f"?account_id={acme}", staff.as_bob) == [newest]
    assert len(await _ids(client, "?status=all", staff.as_bob)) == 6
    assert len(await _ids(client, "?status=done", staff.as_bob)) == 1


async def test_claimed_by_me_lists_my_claims(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, staff: Staff
) -> None:
    now = clock.now()
    mine = await add_item(db, now, status="claimed", claimed_by_id=staff.ann)
    await add_item(db, now, status="claimed", claimed_by_id=staff.bob)
    done = await add_item(
        db, now, status="done", claimed_by_id=staff.ann, outcome="resolved", age=timedelta(1)
    )
    assert await _ids(client, "?claimed_by=me", staff.as_ann) == [mine]
    assert await _ids(client, f"?claimed_by={staff.ann}", staff.admin) == [mine]
    assert await _ids(client, "?claimed_by=me&status=all", staff.as_ann) == [done, mine]
    answer = await client.get("/v1/callbacks?claimed_by=me", headers=staff.admin)
    assert problem(answer, 422)["errors"][0]["field"] == "query.claimed_by"


async def test_an_item_shows_its_call_account_and_claimer(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, staff: Staff
) -> None:
    now = clock.now()
    acme = await add_account(db, now, "Acme", tier="paid")
    item_id = await add_item(db, now, account_id=acme, status="claimed", claimed_by_id=staff.ann)
    answer = await client.get(f"/v1/callbacks/{item_id}", headers=staff.scheduler)
    body = ok(answer)
    assert answer.headers["etag"] == f'W/"work-item-{item_id}-v1"'
    assert body["kind"] == "voicemail" and body["status"] == "claimed"
    assert body["account"] == {"id": acme, "name": "Acme", "tier": "paid"}
    assert body["claimed_by"] == {"id": staff.ann, "name": "Ann Example"}
    assert body["number"] == "+14155550142"
    call = body["call"]
    assert call["from_number"] == "+14155550142"  # in full: the specialist calls it back
    assert call["voicemail"]["url"].startswith("https://api.twilio.com/recordings/RE")
    assert call["voicemail"]["duration"] == 9 and call["started_at"] == "2026-11-20T15:00:00Z"
    listed = ok(await client.get("/v1/callbacks?status=claimed", headers=staff.as_bob))
    assert listed["items"] == [body]


async def test_pages_follow_the_cursor_without_gaps_or_repeats(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, staff: Staff
) -> None:
    now = clock.now()
    # Three share a creation instant: the id breaks the tie.
    expected = [await add_item(db, now, age=timedelta(minutes=10 - i // 3)) for i in range(7)]
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        query = "?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = ok(await client.get(f"/v1/callbacks{query}", headers=staff.as_ann))
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == expected and pages == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?cursor=garbage", "query.cursor"),
        ("?cursor=eyJhZnRlcl9pZCI6MX0", "query.cursor"),  # {"after_id":1}
        ("?cursor=eyJhZnRlcl9hdCI6IngiLCJhZnRlcl9pZCI6MX0", "query.cursor"),  # after_at "x"
        ("?limit=0", "query.limit"),
        ("?limit=201", "query.limit"),
        ("?status=closed", "query.status"),
        ("?kind=email", "query.kind"),
        ("?account_id=0", "query.account_id"),
        ("?account_id=2147483648", "query.account_id"),
        ("?claimed_by=you", "query.claimed_by"),
        ("?claimed_by=9999999999", "query.claimed_by"),
        ("?team=" + "x" * 65, "query.team"),
    ],
)
async def test_bad_list_parameters_are_422(
    client: httpx.AsyncClient, staff: Staff, query: str, field: str
) -> None:
    body = problem(await client.get(f"/v1/callbacks{query}", headers=staff.as_ann), 422)
    assert [e["field"] for e in body["errors"]] == [field]


async def test_unknown_and_bad_ids(client: httpx.AsyncClient, staff: Staff) -> None:
    missing = problem(await client.get("/v1/callbacks/999", headers=staff.as_ann), 404)
    assert missing["detail"] == "work item 999 does not exist"
    for path in ("/v1/callbacks/abc", "/v1/callbacks/0", "/v1/callbacks/2147483648"):
        problem(await client.get(path, headers=staff.as_ann), 422)
    for action in ("claim", "release"):
        problem(await client.post(f"/v1/callbacks/999/{action}", headers=staff.as_ann), 404)
    complete = await client.post(
        "/v1/callbacks/999/complete", json={"outcome": "resolved"}, headers=staff.as_ann
    )
    problem(complete, 404)


async def test_who_may_read(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, staff: Staff
) -> None:
    item_id = await add_item(db, clock.now())
    for headers in (staff.admin, staff.scheduler, staff.as_ann):
        ok(await client.get("/v1/callbacks", headers=headers))
        ok(await client.get(f"/v1/callbacks/{item_id}", headers=headers))
    problem(await client.get("/v1/callbacks", headers=staff.viewer), 403)
    problem(await client.get(f"/v1/callbacks/{item_id}", headers=staff.viewer), 403)
    problem(await client.get("/v1/callbacks"), 401)


async def test_pages_keep_the_paid_first_order(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, staff: Staff
) -> None:
    now = clock.now()
    paid = await add_account(db, now, "Globex", tier="paid")
    standard = await add_account(db, now, "Initech", tier="standard")
    expected_paid = [
        await add_item(db, now, age=timedelta(minutes=m), account_id=paid) for m in (50, 40, 5)
    ]
    expected_rest = [
        await add_item(db, now, age=timedelta(minutes=m), account_id=account)
        for m, account in ((90, standard), (60, None), (30, standard), (1, None))
    ]
    seen: list[int] = []
    cursor = ""
    while True:
        body = ok(await client.get(f"/v1/callbacks?limit=2{cursor}", headers=staff.as_bob))
        seen += [item["id"] for item in body["items"]]
        if not body["next_cursor"]:
            break
        cursor = f"&cursor={body['next_cursor']}"
    assert seen == expected_paid + expected_rest
