"""Two writers with the same If-Match: exactly one wins, the other gets 412 (issue 12.1)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.orm.exc import StaleDataError

from app.accounts import repository, service
from app.accounts.schemas import AccountCreate, AccountUpdate
from app.core.db import Database
from app.models.account import Account
from tests.conftest import ON_POSTGRES

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


async def _account(db: Database) -> int:
    async with db.transaction() as session:
        account = await service.create(
            session,
            AccountCreate(name="Acme", phones=[], external_ref="crm-race"),
            now=NOW,
            region="US",
        )
        return account.id


async def test_the_version_check_is_part_of_the_update(db: Database) -> None:
    """Another writer commits between our read and our write: our write is refused."""
    account_id = await _account(db)
    async with db.sessionmaker() as session:
        read = await service.get(session, account_id)
        assert read.version == 1
        # The other writer: a statement the session's identity map does not see.
        await session.execute(
            update(Account).where(Account.id == account_id).values(name="Other", version=2),
            execution_options={"synchronize_session": False},
        )
        with pytest.raises(StaleDataError):
            await service.update(
                session,
                account_id,
                AccountUpdate(name="Mine"),
                now=NOW,
                region="US",
                if_match=service.etag(read),
            )
        await session.rollback()


async def test_bulk_upsert_does_not_overwrite_a_concurrent_change(db: Database) -> None:
    """The bulk upsert checks the version it read as well."""
    await _account(db)
    async with db.sessionmaker() as session:
        # What the upsert reads, held in the session as if read before the other writer.
        read = await repository.by_external_ref(session, ["crm-race"])
        assert read["crm-race"].version == 1
        await session.execute(
            update(Account).where(Account.external_ref == "crm-race").values(version=5),
            execution_options={"synchronize_session": False},
        )
        with pytest.raises(StaleDataError):
            await service.bulk_upsert(
                session,
                [{"external_ref": "crm-race", "name": "Acme Renamed", "phones": []}],
                now=NOW,
                region="US",
            )
        await session.rollback()


async def test_racing_patches_over_http(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """Twenty pairs of PATCHes with the same If-Match: each time one 200 and one 412."""
    created = await client.post("/v1/accounts", json={"name": "Acme"}, headers=admin)
    assert created.status_code == 201, created.text
    url = f"/v1/accounts/{created.json()['id']}"
    etag = created.headers["etag"]
    for i in range(20 if ON_POSTGRES else 5):
        answers = await asyncio.gather(
            client.patch(url, json={"name": f"A{i}"}, headers={**admin, "If-Match": etag}),
            client.patch(url, json={"name": f"B{i}"}, headers={**admin, "If-Match": etag}),
        )
        codes = sorted(a.status_code for a in answers)
        assert codes == [200, 412], [a.text for a in answers]
        winner = next(a for a in answers if a.status_code == 200)
        loser = next(a for a in answers if a.status_code == 412)
        assert loser.headers["content-type"] == "application/problem+json"
        got = await client.get(url, headers=admin)
        assert got.json()["name"] == winner.json()["name"]
        etag = got.headers["etag"]
