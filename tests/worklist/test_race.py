"""Two specialists claiming one item at the same moment: exactly one of them gets it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FixedClock
from app.core.db import Database
from app.models.routing import WorkItem
from app.worklist import repository
from tests.worklist.conftest import Staff, add_item, ok, problem


async def test_concurrent_claims_have_exactly_one_winner(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, staff: Staff
) -> None:
    for _ in range(5):
        item_id = await add_item(db, clock.now())
        answers = await asyncio.gather(
            client.post(f"/v1/callbacks/{item_id}/claim", headers=staff.as_ann),
            client.post(f"/v1/callbacks/{item_id}/claim", headers=staff.as_bob),
        )
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        winner = next(a for a in answers if a.status_code == 200).json()["claimed_by"]["id"]
        loser = problem(next(a for a in answers if a.status_code == 409), 409)
        assert loser["claimed_by"]["id"] == winner
        stored = ok(await client.get(f"/v1/callbacks/{item_id}", headers=staff.admin))
        assert stored["claimed_by"]["id"] == winner


async def test_concurrent_completes_by_the_same_specialist_write_once(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, staff: Staff
) -> None:
    item_id = await add_item(db, clock.now())
    body = {"outcome": "resolved", "note": "done"}
    answers = await asyncio.gather(
        *(
            client.post(f"/v1/callbacks/{item_id}/complete", json=body, headers=staff.as_ann)
            for _ in range(3)
        )
    )
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    async with db.transaction() as session:
        item = await session.get(WorkItem, item_id)
        assert item is not None and item.version == 2  # one write, the others saw it done


async def test_a_stale_read_writes_nothing(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, staff: Staff
) -> None:
    item_id = await add_item(db, clock.now())
    async with db.transaction() as session:
        stale = await repository.get(session, item_id)
    assert stale is not None and stale.version == 1
    ok(await client.post(f"/v1/callbacks/{item_id}/claim", headers=staff.as_ann))
    async with db.transaction() as session:
        values = {"status": "claimed", "claimed_by_id": staff.bob}
        assert not await repository.write_if_unchanged(session, item_id, stale.version, values)
        item = await repository.get(session, item_id)
        assert item is not None and (item.claimed_by_id, item.version) == (staff.ann, 2)


async def test_a_claim_that_loses_between_read_and_write_is_409(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    staff: Staff,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The interleaving a race produces, made certain: Bob's claim lands after Ann's read."""
    item_id = await add_item(db, clock.now())
    original = repository.write_if_unchanged

    async def bob_first(
        session: AsyncSession, item_id: int, read_version: int, values: dict[str, Any]
    ) -> bool:
        # As another connection would: the session's copy of the item is not touched.
        await session.execute(
            update(WorkItem)
            .where(WorkItem.id == item_id)
            .values(status="claimed", claimed_by_id=staff.bob, version=WorkItem.version + 1)
            .execution_options(synchronize_session=False)
        )
        monkeypatch.setattr(repository, "write_if_unchanged", original)
        return await original(session, item_id, read_version, values)

    monkeypatch.setattr(repository, "write_if_unchanged", bob_first)
    lost = problem(await client.post(f"/v1/callbacks/{item_id}/claim", headers=staff.as_ann), 409)
    assert lost["claimed_by"] == {"id": staff.bob, "name": "Bob Example"}
