"""A deleted row's id never comes back, so its ETag never matches a new row (issue 12.2)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.schema import upgrade
from app.models import Base
from tests.conftest import Keys
from tests.rota_api.helpers import Api, utc


@pytest.fixture
async def api(client: httpx.AsyncClient, keys: Keys) -> Api:
    """A scheduler's API."""
    return Api(client, await keys.headers("scheduler"))


async def test_recreated_override_gets_a_new_id_and_the_old_etag_is_stale(api: Api) -> None:
    await api.team("t")
    a, c = await api.people("t", "A", "C")
    await api.rotation("t", [a], name="days", start="08:00", end="20:00")
    window = {"specialist_id": a, "substitute_id": c, "kind": "cover"}
    (first,) = await api.override(**window, start=utc(2026, 11, 23, 8), end=utc(2026, 11, 23, 20))
    old_etag = await api.etag(f"/v1/overrides/{first['id']}")
    gone = await api.client.delete(f"/v1/overrides/{first['id']}", headers=api.hdr(old_etag))
    assert gone.status_code == 204, gone.text

    (second,) = await api.override(**window, start=utc(2026, 11, 24, 8), end=utc(2026, 11, 24, 20))
    assert second["id"] != first["id"]
    for stale_id in (first["id"], second["id"]):
        stale = await api.client.delete(f"/v1/overrides/{stale_id}", headers=api.hdr(old_etag))
        assert stale.status_code in (404, 412), stale.text
    still = await api.get(f"/v1/overrides/{second['id']}")
    assert still.status_code == 200
    audit = await api.audit(resource_type="override", resource_id=str(second["id"]))
    assert [e["action"] for e in audit] == ["create"]


def test_sqlite_tables_that_show_ids_are_autoincrement(tmp_path: Path) -> None:
    """The migrations give SQLite's AUTOINCREMENT to every table the models ask it for."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'ids.db'}"
    upgrade(url)
    wanted = {
        name
        for name, table in Base.metadata.tables.items()
        if table.dialect_options["sqlite"]["autoincrement"]
    }
    assert {"accounts", "overrides", "manual_days_off", "calls", "call_attempts"} <= wanted

    async def ddl() -> dict[str, str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(text("SELECT name, sql FROM sqlite_master"))
                return {str(n): str(s) for n, s in rows}
        finally:
            await engine.dispose()

    tables = asyncio.run(ddl())
    missing = sorted(n for n in wanted if "AUTOINCREMENT" not in tables[n])
    assert missing == []
