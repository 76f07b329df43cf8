"""Several instances on one database: all start, and the window is rebuilt once per period."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, func, select

from app.config import Settings
from app.core.clock import FixedClock
from app.core.db import Database
from app.core.schema import upgrade
from app.main import create_app
from app.models.rota import MaterialisedWindow, ShiftInstance
from app.rota import materialise
from app.rota.materialise import REFRESH_WHEN_LEFT
from app.rota.refresher import refresh_once
from tests.conftest import Keys
from tests.rota_api.helpers import Api, utc
from tests.rota_api.test_concurrency import stored_matches_calculation

INSTANCES = 3


def test_the_migration_creates_the_window_row(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)

    async def rows() -> list[MaterialisedWindow]:
        db = Database.from_url(url)
        try:
            async with db.transaction() as session:
                return list(await session.scalars(select(MaterialisedWindow)))
        finally:
            await db.dispose()

    found = asyncio.run(rows())
    assert [(w.id, w.rota_version, w.materialised_version) for w in found] == [(1, 0, 0)]
    # Empty: it covers no instant, so lookups calculate until the first refresh.
    assert not materialise.covers(found[0], utc(2026, 11, 20))


@pytest.mark.postgres_only
async def test_instances_starting_together_on_a_database_without_the_window_row(
    settings: Settings, clock: FixedClock, db: Database
) -> None:
    async with db.transaction() as session:
        await session.execute(delete(MaterialisedWindow))
    apps = [create_app(settings, clock=clock) for _ in range(INSTANCES)]
    async with AsyncExitStack() as stack:
        await asyncio.gather(
            *(stack.enter_async_context(a.router.lifespan_context(a)) for a in apps)
        )
        for application in apps:
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                assert (await http.get("/readyz")).status_code == 200
    async with db.transaction() as session:
        windows = list(await session.scalars(select(MaterialisedWindow)))
    assert len(windows) == 1
    assert materialise.covers(windows[0], clock.now())


async def test_a_failing_start_up_refresh_does_not_stop_the_instance(
    settings: Settings, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> bool:
        raise RuntimeError("database hiccup")

    monkeypatch.setattr("app.rota.refresher.refresh_if_due", broken)
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            assert (await http.get("/healthz")).status_code == 200


async def test_instances_checking_at_once_rebuild_the_window_once(
    client: httpx.AsyncClient, keys: Keys, database_url: str, db: Database, clock: FixedClock
) -> None:
    api = Api(client, await keys.headers("scheduler"))
    await api.team("t")
    people = await api.people("t", "A", "B")
    await api.rotation("t", people, effective_from=utc(2026, 11, 1))
    async with db.transaction() as session:
        before = await session.get(MaterialisedWindow, materialise.WINDOW_ID)
        assert before is not None
    # Time passes until the window runs low: every instance finds the refresh due.
    later = FixedClock(before.ends_at - REFRESH_WHEN_LEFT + timedelta(hours=1))
    instances = [Database.from_url(database_url) for _ in range(INSTANCES)]
    try:
        ran = await asyncio.gather(*(refresh_once(i, later) for i in instances))
        again = await asyncio.gather(*(refresh_once(i, later) for i in instances))
    finally:
        for instance in instances:
            await instance.dispose()

    assert sorted(ran) == [False] * (INSTANCES - 1) + [True]
    assert again == [False] * INSTANCES
    async with db.transaction() as session:
        after = await session.get(MaterialisedWindow, materialise.WINDOW_ID)
        assert after is not None
        count = await session.scalar(select(func.count()).select_from(ShiftInstance))
    assert after.shifts_version == before.shifts_version + 1
    assert after.ends_at == later.now() + materialise.HORIZON
    assert after.claimed_until is None
    assert count
    await stored_matches_calculation(db)
