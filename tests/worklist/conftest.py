"""Fixtures for the work list: specialists with keys, and items inserted directly."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from app.core.clock import FixedClock
from app.core.db import Database
from app.models.account import Account
from app.models.call import Call
from app.models.rota import Specialist
from app.models.routing import WorkItem
from tests.conftest import Keys

PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Staff:
    """Two specialists with their own keys, and a key of every other role."""

    ann: int
    bob: int
    as_ann: dict[str, str]
    as_bob: dict[str, str]
    admin: dict[str, str]
    scheduler: dict[str, str]
    viewer: dict[str, str]


async def add_specialist(db: Database, now: datetime, name: str, *, active: bool = True) -> int:
    """Insert a specialist; returns its id."""
    async with db.transaction() as session:
        row = Specialist(
            name=name,
            contact="+14155550100",
            tz="UTC",
            languages=["en"],
            skills=[],
            active=active,
            calendar_token=secrets.token_urlsafe(16),
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        await session.flush()
        return row.id


@pytest.fixture
async def staff(db: Database, clock: FixedClock, keys: Keys, admin: dict[str, str]) -> Staff:
    """Ann and Bob with specialist keys, and admin, scheduler and viewer keys."""
    ann = await add_specialist(db, clock.now(), "Ann Example")
    bob = await add_specialist(db, clock.now(), "Bob Example")
    return Staff(
        ann=ann,
        bob=bob,
        as_ann=await keys.headers("specialist", name="ann-key", specialist_id=ann),
        as_bob=await keys.headers("specialist", name="bob-key", specialist_id=bob),
        admin=admin,
        scheduler=await keys.headers("scheduler"),
        viewer=await keys.headers("viewer"),
    )


async def add_account(db: Database, now: datetime, name: str, tier: str = "standard") -> int:
    """Insert an account; returns its id."""
    async with db.transaction() as session:
        row = Account(
            number=str(1_000_000 + secrets.randbelow(8_999_999)),
            name=name,
            tier=tier,
            created_at=now,
            updated_at=now,
            version=1,
        )
        session.add(row)
        await session.flush()
        return row.id


_sids = iter(range(1, 10_000))


async def add_item(
    db: Database,
    now: datetime,
    *,
    kind: str = "voicemail",
    team: str | None = "support-en",
    language: str | None = "en",
    account_id: int | None = None,
    age: timedelta = timedelta(0),
    **fields: Any,
) -> int:
    """Insert a call and its work item created `age` before now; returns the item id."""
    created = now - age
    async with db.transaction() as session:
        call = Call(
            sid=f"CA{next(_sids):032d}",
            from_number="+14155550142",
            to_number="+18005550100",
            account_id=account_id,
            language=language,
            team=team,
            status="completed",
            outcome=kind,
            started_at=created,
            ended_at=created,
            created_at=created,
            updated_at=created,
        )
        if kind == "voicemail":
            call.voicemail_url = f"https://api.twilio.com/recordings/RE{call.sid[2:]}"
            call.voicemail_duration = 9
        else:
            call.callback_number = "+14155550199"
        session.add(call)
        await session.flush()
        item = WorkItem(
            kind=kind,
            call_id=call.id,
            account_id=account_id,
            team=team,
            language=language,
            number=call.callback_number or call.from_number,
            created_at=created,
            updated_at=created,
            **{"status": "open", **fields},
        )
        session.add(item)
        await session.flush()
        return item.id


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    """The JSON body of a response that must have this status."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem+json body of a response that must have this status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    return body
