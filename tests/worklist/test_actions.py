"""Claim, release and complete: who may, what a repeat does, and the 409s."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.auth.service import create_key
from app.core.clock import FixedClock
from app.core.db import Database
from app.models.account import AccountNote
from app.models.routing import WorkItem
from tests.worklist.conftest import Staff, add_account, add_item, add_specialist, ok, problem


async def _post(
    client: httpx.AsyncClient,
    item_id: int,
    action: str,
    headers: dict[str, str],
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    return await client.post(f"/v1/callbacks/{item_id}/{action}", json=body, headers=headers)


async def _row(db: Database, item_id: int) -> WorkItem:
    async with db.transaction() as session:
        item = await session.get(WorkItem, item_id)
        assert item is not None
        return item


async def _notes(db: Database) -> list[str]:
    async with db.transaction() as session:
        return list(await session.scalars(select(AccountNote.body).order_by(AccountNote.id)))


async def test_a_specialist_claims_once_and_others_are_told_who_holds_it(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, staff: Staff
) -> None:
    item_id = await add_item(db, clock.now(), age=timedelta(hours=1))
    first = await _post(client, item_id, "claim", staff.as_ann)
    body = ok(first)
    assert body["status"] == "claimed" and body["claimed_at"] == "2026-11-20T15:00:00Z"
    assert body["claimed_by"] == {"id": staff.ann, "name": "Ann Example"}
    assert first.headers["etag"] == f'W/"work-item-{item_id}-v2"'

    clock.advance(timedelta(minutes=5))
    again = await _post(client, item_id, "claim", staff.as_ann)
    assert ok(again) == body and again.headers["etag"] == first.headers["etag"]

    taken = problem(await _post(client, item_id, "claim", staff.as_bob), 409)
    assert taken["detail"] == f"work item {item_id} is claimed by Ann Example (id {staff.ann})"
    assert taken["claimed_by"] == {"id": staff.ann, "name": "Ann Example"}
    assert (await _row(db, item_id)).claimed_by_id == staff.ann
    assert ok(await client.get("/v1/callbacks", headers=staff.as_bob))["items"] == []


async def test_release_by_the_claimer_or_a_supervisor_only(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, staff: Staff
) -> None:
    item_id = await add_item(db, clock.now())
    ok(await _post(client, item_id, "claim", staff.as_ann))
    refused = problem(await _post(client, item_id, "release", staff.as_bob), 409)
    assert refused["claimed_by"]["id"] == staff.ann

    released = ok(await _post(client, item_id, "release", staff.as_ann))
    assert released["status"] == "open" and released["claimed_by"] is None
    assert released["claimed_at"] is None
    assert ok(await _post(client, item_id, "release", staff.as_bob)) == released  # already open

    ok(await _post(client, item_id, "claim", staff.as_bob))
    assert ok(await _post(client, item_id, "release", staff.scheduler))["status"] == "open"
    ok(await _post(client, item_id, "claim", staff.as_bob))
    assert ok(await _post(client, item_id, "release", staff.admin))["status"] == "open"
    problem(await _post(client, item_id, "release", staff.viewer), 403)


async def test_complete_by_the_claimer_with_an_idempotent_repeat(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, staff: Staff
) -> None:
    acme = await add_account(db, clock.now(), "Acme")
    item_id = await add_item(db, clock.now(), account_id=acme)
    ok(await _post(client, item_id, "claim", staff.as_ann))
    outcome = {"outcome": "resolved", "note": "  Called back; refund sent.  "}
    problem(await _post(client, item_id, "complete", staff.as_bob, outcome), 409)

    clock.advance(timedelta(minutes=7))
    done = ok(await _post(client, item_id, "complete", staff.as_ann, outcome))
    assert done["status"] == "done" and done["outcome"] == "resolved"
    assert done["note"] == "Called back; refund sent."
    assert done["completed_at"] == "2026-11-20T15:07:00Z"
    assert done["claimed_at"] == "2026-11-20T15:00:00Z"
    assert await _notes(db) == ["Voicemail (resolved): Called back; refund sent."]

    # A retry (same outcome, same or no note) changes nothing and adds no second note.
    assert ok(await _post(client, item_id, "complete", staff.as_ann, outcome)) == done
    same = {"outcome": "resolved"}
    assert ok(await _post(client, item_id, "complete", staff.as_ann, same)) == done
    assert ok(await _post(client, item_id, "complete", staff.admin, same)) == done
    assert len(await _notes(db)) == 1

    other = problem(
        await _post(client, item_id, "complete", staff.as_ann, {"outcome": "other"}), 409
    )
    assert other["outcome"] == "resolved"
    assert "already done with outcome resolved" in other["detail"]
    renote = {"outcome": "resolved", "note": "something else"}
    assert (
        "different note"
        in problem(await _post(client, item_id, "complete", staff.as_ann, renote), 409)["detail"]
    )
    problem(await _post(client, item_id, "complete", staff.as_bob, same), 409)  # not Bob's
    problem(await _post(client, item_id, "claim", staff.as_ann), 409)
    problem(await _post(client, item_id, "claim", staff.as_bob), 409)
    problem(await _post(client, item_id, "release", staff.as_ann), 409)
    problem(await _post(client, item_id, "release", staff.admin), 409)
    row = await _row(db, item_id)
    assert (row.status, row.outcome, row.version) == ("done", "resolved", 3)


async def test_a_specialist_may_complete_an_open_item_at_once(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, staff: Staff
) -> None:
    item_id = await add_item(db, clock.now(), kind="callback")
    done = ok(await _post(client, item_id, "complete", staff.as_bob, {"outcome": "no_answer"}))
    assert done["claimed_by"] == {"id": staff.bob, "name": "Bob Example"}
    assert done["claimed_at"] == done["completed_at"] == "2026-11-20T15:00:00Z"
    assert done["note"] is None
    assert await _notes(db) == []  # no note, and no account to add it to


async def test_an_admin_completes_any_item_and_a_scheduler_may_not(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, staff: Staff
) -> None:
    open_id = await add_item(db, clock.now())
    claimed_id = await add_item(db, clock.now(), status="claimed", claimed_by_id=staff.ann)
    outcome = {"outcome": "duplicate", "note": "Same as the call before."}
    problem(await _post(client, open_id, "complete", staff.scheduler, outcome), 403)
    problem(await _post(client, open_id, "complete", staff.viewer, outcome), 403)
    done = ok(await _post(client, open_id, "complete", staff.admin, outcome))
    assert done["status"] == "done" and done["claimed_by"] is None
    done = ok(await _post(client, claimed_id, "complete", staff.admin, outcome))
    assert done["claimed_by"]["id"] == staff.ann  # who worked it stays on record
    assert await _notes(db) == []  # neither item has an account


async def test_admin_and_scheduler_claim_on_behalf_of_a_specialist(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, staff: Staff
) -> None:
    item_id = await add_item(db, clock.now())
    retired = await add_specialist(db, clock.now(), "Rita Retired", active=False)
    need = problem(await _post(client, item_id, "claim", staff.admin), 422)
    assert need["errors"] == [
        {"field": "body.specialist_id", "message": "required for admin and scheduler keys"}
    ]
    for who, message in ((99999, "no such specialist"), (retired, "the specialist is not active")):
        bad = problem(
            await _post(client, item_id, "claim", staff.admin, {"specialist_id": who}), 422
        )
        assert bad["errors"] == [{"field": "body.specialist_id", "message": message}]
    for_bob = await _post(client, item_id, "claim", staff.scheduler, {"specialist_id": staff.bob})
    assert ok(for_bob)["claimed_by"]["id"] == staff.bob
    other = {"specialist_id": staff.ann}
    problem(await _post(client, item_id, "claim", staff.admin, other), 409)  # Bob holds it
    problem(await _post(client, item_id, "claim", staff.as_bob, other), 403)  # not for others
    assert ok(await _post(client, item_id, "claim", staff.as_bob, {"specialist_id": staff.bob}))
    problem(await _post(client, item_id, "claim", staff.viewer), 403)
    assert (await _row(db, item_id)).claimed_by_id == staff.bob


async def test_a_specialist_key_without_a_specialist_may_read_but_not_act(
    client: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    item_id = await add_item(db, clock.now())
    async with db.transaction() as session:
        _, secret = await create_key(session, name="orphan", role="specialist", now=clock.now())
    orphan = {"Authorization": f"Bearer {secret}"}
    ok(await client.get(f"/v1/callbacks/{item_id}", headers=orphan))
    for action, body in (("claim", None), ("release", None), ("complete", {"outcome": "other"})):
        refused = problem(await _post(client, item_id, action, orphan, body), 403)
        assert "not linked to a specialist" in refused["detail"]


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("complete", {}, "body.outcome"),
        ("complete", {"outcome": "fixed"}, "body.outcome"),
        ("complete", {"outcome": None}, "body.outcome"),
        ("complete", {"outcome": "resolved", "note": "x" * 2001}, "body.note"),
        ("complete", {"outcome": "resolved", "note": 5}, "body.note"),
        ("complete", {"outcome": "resolved", "by": "me"}, "body.by"),
        ("complete", [], "body"),
        ("claim", {"specialist_id": "ann"}, "body.specialist_id"),
        ("claim", {"specialist_id": 0}, "body.specialist_id"),
        ("claim", {"specialist_id": 2**31}, "body.specialist_id"),
        ("claim", {"team": "x"}, "body.team"),
    ],
)
async def test_bad_bodies_are_422_and_change_nothing(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    staff: Staff,
    action: str,
    body: Any,
    field: str,
) -> None:
    item_id = await add_item(db, clock.now(), account_id=await add_account(db, clock.now(), "A"))
    answer = await _post(client, item_id, action, staff.admin, body)
    assert [e["field"] for e in problem(answer, 422)["errors"]] == [field]
    row = await _row(db, item_id)
    assert (row.status, row.version) == ("open", 1)
    assert await _notes(db) == []


async def test_a_body_that_is_not_json_is_422(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, staff: Staff
) -> None:
    item_id = await add_item(db, clock.now())
    answer = await client.post(
        f"/v1/callbacks/{item_id}/complete",
        content=b"outcome=resolved",
        headers={**staff.as_ann, "Content-Type": "application/json"},
    )
    problem(answer, 422)
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(AccountNote)) == 0
    assert (await _row(db, item_id)).status == "open"


async def test_a_blank_note_is_no_note(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, staff: Staff
) -> None:
    acme = await add_account(db, clock.now(), "Acme")
    item_id = await add_item(db, clock.now(), account_id=acme)
    body = {"outcome": "left_message", "note": "   "}
    assert ok(await _post(client, item_id, "complete", staff.as_ann, body))["note"] is None
    assert await _notes(db) == []
