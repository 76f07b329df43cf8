"""Reports by tier, and per specialist: rings offered, answered, missed, declined, utilisation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.core.clock import FixedClock
from app.core.db import Database
from app.models.account import Account
from app.models.call import Call, RingAttempt
from tests.conftest import Keys
from tests.telephony.rota_rows import Person, staff

DAY = datetime(2026, 11, 19, tzinfo=UTC)  # the day before the tests' NOW
RANGE = {"start": "2026-11-19", "end": "2026-11-20"}


async def seed(db: Database, clock: FixedClock) -> dict[str, int]:
    """Ann and Bob on shift around the clock in support-en; three calls on DAY."""
    ids = await staff(
        db,
        clock.now(),
        {
            "support-en": [
                Person("Ann Example", "+14155550001", ["en"]),
                Person("Bob Example", "client:bob", ["en"]),
            ]
        },
    )
    ann, bob = ids["Ann Example"], ids["Bob Example"]
    now = clock.now()
    async with db.transaction() as session:
        paid = Account(
            number="1000017", name="Paid Co", tier="paid", created_at=now, updated_at=now
        )
        standard = Account(
            number="1000025", name="Std Co", tier="standard", created_at=now, updated_at=now
        )
        session.add_all([paid, standard])
        await session.flush()

        def call(n: int, hour: int, account: Account | None, **extra: Any) -> Call:
            at = DAY + timedelta(hours=hour)
            row = Call(
                sid=f"CA{n:032d}",
                from_number="+14155550142",
                to_number="+18005550100",
                account_id=account.id if account else None,
                team="support-en",
                language="en",
                status="completed",
                started_at=at,
                routed_at=at + timedelta(seconds=10),
                ended_at=at + timedelta(minutes=30),
                created_at=at,
                updated_at=at,
                **extra,
            )
            session.add(row)
            return row

        # Paid: Bob misses it, Ann answers and talks for 1 h 12 min (72 min).
        first = call(1, 9, paid, outcome="answered", answered_by_id=ann)
        first.answered_at = DAY + timedelta(hours=9, seconds=40)
        first.ended_at = first.answered_at + timedelta(minutes=72)
        # Standard: Ann declines, Bob's ring is canceled when the caller hangs up.
        call(2, 12, standard, outcome="abandoned")
        # Unidentified: Bob answers, 24 minutes.
        third = call(3, 15, None, outcome="answered", answered_by_id=bob)
        third.answered_at = DAY + timedelta(hours=15, seconds=20)
        third.ended_at = third.answered_at + timedelta(minutes=24)
        await session.flush()

        def ring(row: Call, who: int, result: str, batch: int = 1) -> None:
            session.add(
                RingAttempt(
                    call_id=row.id,
                    specialist_id=who,
                    team="support-en",
                    batch=batch,
                    contact="x",
                    rung_at=row.started_at + timedelta(seconds=10 * batch),
                    ended_at=row.started_at + timedelta(seconds=30),
                    result=result,
                )
            )

        second = await session.get(Call, 2)
        assert second is not None
        ring(first, bob, "no-answer")
        ring(first, ann, "accepted", batch=2)
        ring(second, ann, "declined")
        ring(second, bob, "canceled")
        ring(third, bob, "accepted")
        ring(third, ann, "busy")
    return ids


@pytest.fixture
async def viewer(keys: Keys) -> dict[str, str]:
    return await keys.headers("viewer")


async def test_summary_by_tier_and_filtered_by_tier(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, viewer: dict[str, str]
) -> None:
    await seed(db, clock)
    answer = await client.get(
        "/v1/reports/summary", params={**RANGE, "group_by": "tier"}, headers=viewer
    )
    assert answer.status_code == 200, answer.text
    groups = {g["group"]: g for g in answer.json()["groups"]}
    assert list(groups) == ["paid", "standard", None]
    assert (groups["paid"]["offered"], groups["paid"]["answered"]) == (1, 1)
    assert (groups["standard"]["offered"], groups["standard"]["abandoned"]) == (1, 1)
    assert groups[None]["answered"] == 1
    only_paid = await client.get(
        "/v1/reports/summary", params={**RANGE, "tier": "paid"}, headers=viewer
    )
    assert only_paid.json()["total"]["offered"] == 1
    unknown = await client.get(
        "/v1/reports/summary", params={**RANGE, "tier": "unknown"}, headers=viewer
    )
    assert unknown.json()["total"]["offered"] == 1
    bad = await client.get("/v1/reports/summary", params={**RANGE, "tier": "gold"}, headers=viewer)
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


async def test_per_specialist_rings_and_utilisation(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, viewer: dict[str, str]
) -> None:
    ids = await seed(db, clock)
    answer = await client.get("/v1/reports/specialists", params=RANGE, headers=viewer)
    assert answer.status_code == 200, answer.text
    rows = {r["name"]: r for r in answer.json()["specialists"]}
    day = 24 * 3600
    assert rows["Ann Example"] == {
        "specialist_id": ids["Ann Example"],
        "name": "Ann Example",
        "rings_offered": 3,
        "answered": 1,
        "missed": 1,  # busy
        "declined": 1,
        "canceled": 0,
        "talk_seconds": 72 * 60,
        "on_shift_seconds": day,
        "utilisation": 0.05,  # 72 min of 24 h
    }
    bob = rows["Bob Example"]
    assert (bob["rings_offered"], bob["answered"], bob["missed"], bob["declined"]) == (3, 1, 1, 0)
    assert bob["canceled"] == 1
    assert (bob["talk_seconds"], bob["on_shift_seconds"]) == (24 * 60, day)
    assert bob["utilisation"] == pytest.approx(0.0167)

    half = await client.get(
        "/v1/reports/specialists",
        params={"start": "2026-11-19T00:00:00Z", "end": "2026-11-19T12:00:00Z"},
        headers=viewer,
    )
    ann_half = next(r for r in half.json()["specialists"] if r["name"] == "Ann Example")
    assert (ann_half["rings_offered"], ann_half["on_shift_seconds"]) == (1, day // 2)
    assert ann_half["utilisation"] == 0.1

    other = await client.get(
        "/v1/reports/specialists", params={**RANGE, "team": "support-ja"}, headers=viewer
    )
    assert other.json()["specialists"] == []


async def test_specialist_report_range_and_roles(
    client: httpx.AsyncClient, keys: Keys, viewer: dict[str, str]
) -> None:
    too_long = await client.get(
        "/v1/reports/specialists",
        params={"start": "2026-01-01", "end": "2026-06-01"},
        headers=viewer,
    )
    assert too_long.status_code == 422
    backwards = await client.get(
        "/v1/reports/specialists",
        params={"start": "2026-01-02", "end": "2026-01-01"},
        headers=viewer,
    )
    assert backwards.status_code == 422
    specialist = await keys.headers("specialist")
    refused = await client.get("/v1/reports/specialists", params=RANGE, headers=specialist)
    assert refused.status_code == 403
