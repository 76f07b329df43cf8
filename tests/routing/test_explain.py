"""`/v1/routing/explain`: who would be rung, in order, and why every other member is not."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from app.core.clock import FixedClock
from app.core.db import Database
from app.models.call import Call
from app.models.rota import ManualDayOffRow, OverrideRow, Specialist, Team, TeamMember
from app.models.routing import QueueEntry, SpecialistPresence
from app.rota.materialise import rematerialise
from tests.telephony.rota_rows import Person, staff

ANN = Person("Ann", "+14155550001", ["en"], [])
BOB = Person("Bob", "+14155550002", ["en"], ["billing"])
CY = Person("Cy", "+14155550003", ["ja"], [])
DEE = Person("Dee", "+14155550004", ["en"], [])
EVE = Person("Eve", "+14155550005", ["en"], [])
GUS = Person("Gus", "+14155550006", ["en"], [])
HAL = Person("Hal", "+14155550007", ["en"], ["billing"])


async def _arrange(db: Database, clock: FixedClock) -> dict[str, int]:
    now = clock.now()
    ids = await staff(
        db, now, {"support-en": [ANN, BOB, CY, DEE, EVE, GUS, HAL], "support-ja": [CY]}
    )
    async with db.transaction() as session:
        fay = Specialist(
            name="Fay",
            contact="+14155550008",
            tz="UTC",
            languages=["en"],
            skills=[],
            active=True,
            calendar_token=secrets.token_urlsafe(16),
            created_at=now,
            updated_at=now,
        )
        session.add(fay)
        await session.flush()
        ids["Fay"] = fay.id
        team = await session.scalar(select(Team).where(Team.slug == "support-en"))
        assert team is not None
        session.add(TeamMember(team_id=team.id, specialist_id=fay.id))  # in no rotation
        session.add(
            OverrideRow(
                kind="leave",
                specialist_id=ids["Dee"],
                starts_at=now - timedelta(hours=2),
                ends_at=now + timedelta(days=2),
                reason="holiday",
                created_at=now,
                updated_at=now,
            )
        )
        session.add(
            ManualDayOffRow(
                specialist_id=ids["Eve"],
                day=date(2026, 11, 20),
                note="moving house",
                created_at=now,
                updated_at=now,
            )
        )
        gus = await session.get(Specialist, ids["Gus"])
        assert gus is not None
        gus.active = False
        session.add(
            SpecialistPresence(
                specialist_id=ids["Ann"],
                state="busy",
                held_until=now + timedelta(hours=1),
                updated_at=now,
            )
        )
        session.add(  # Hal's last call ended an hour ago; Bob never had one
            SpecialistPresence(
                specialist_id=ids["Hal"],
                state="free",
                idle_since=now - timedelta(hours=1),
                updated_at=now,
            )
        )
        await session.flush()
        await rematerialise(session, now)
    return ids


async def test_explain_orders_candidates_and_names_every_exclusion(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, keys: Any
) -> None:
    ids = await _arrange(db, clock)
    answer = await client.get(
        "/v1/routing/explain",
        params={"team": "support-en", "language": "en", "skill": "billing"},
        headers=await keys.headers("scheduler"),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["outcome"] == "ring"
    # Both have the skill; Bob never had a call, so he is the longer idle.
    assert [(r["name"], r["position"], r["skilled"]) for r in body["would_ring"]] == [
        ("Bob", 1, True),
        ("Hal", 2, True),
    ]
    assert body["first_batch"] == [ids["Bob"], ids["Hal"]]
    assert "no call yet" in body["would_ring"][0]["reason"]
    excluded = {e["name"]: e["reason"] for e in body["excluded"]}
    assert excluded == {
        "Ann": "busy",
        "Cy": "lacks_language",
        "Dee": "on_leave",
        "Eve": "day_off",
        "Fay": "off_shift",
        "Gus": "inactive",
    }


async def test_strategies_and_batch(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, keys: Any
) -> None:
    ids = await _arrange(db, clock)
    headers = await keys.headers("admin")

    async def ring(**params: str) -> list[str]:
        answer = await client.get(
            "/v1/routing/explain",
            params={"team": "support-en", "language": "en", **params},
            headers=headers,
        )
        assert answer.status_code == 200, answer.text
        return [r["name"] for r in answer.json()["would_ring"]]

    assert await ring() == ["Bob", "Hal"]
    assert await ring(strategy="fixed_order") == ["Bob", "Hal"]
    assert ids["Bob"] < ids["Hal"]


async def test_explain_refuses_bad_input(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, keys: Any
) -> None:
    await _arrange(db, clock)
    headers = await keys.headers("scheduler")
    cases = [
        {"team": "nope", "language": "en"},
        {"team": "support-en"},
        {"team": "support-en", "language": "en", "tier": "gold"},
        {"team": "support-en", "language": "en", "at": "2026-11-20T15:00:00"},
        {"team": "support-en", "language": "en", "strategy": "random"},
    ]
    for params in cases:
        answer = await client.get("/v1/routing/explain", params=params, headers=headers)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    viewer = await client.get(
        "/v1/routing/explain",
        params={"team": "support-en", "language": "en"},
        headers=await keys.headers("viewer"),
    )
    assert viewer.status_code == 403
    anonymous = await client.get(
        "/v1/routing/explain", params={"team": "support-en", "language": "en"}
    )
    assert anonymous.status_code == 401


async def test_a_japanese_caller_on_an_overflow_team_reaches_speakers_first(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, keys: Any
) -> None:
    await _arrange(db, clock)
    answer = await client.get(
        "/v1/routing/explain",
        params={"team": "support-ja", "language": "ja"},
        headers=await keys.headers("scheduler"),
    )
    assert [r["name"] for r in answer.json()["would_ring"]] == ["Cy"]


async def test_a_caller_waiting_ahead_keeps_one_free_specialist_not_all(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, keys: Any
) -> None:
    await _arrange(db, clock)
    now = clock.now()
    async with db.transaction() as session:
        call = Call(
            sid="CA" + "9" * 32,
            from_number="+14155550199",
            to_number="+18005550100",
            status="in-progress",
            started_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(call)
        await session.flush()
        session.add(
            QueueEntry(
                call_id=call.id,
                team="support-en",
                language="en",
                priority=0,
                enqueued_at=now - timedelta(seconds=30),
                deadline=now + timedelta(minutes=3),
                state="waiting",
                updated_at=now,
            )
        )
    answer = await client.get(
        "/v1/routing/explain",
        params={"team": "support-en", "language": "en", "skill": "billing"},
        headers=await keys.headers("scheduler"),
    )
    body = answer.json()
    # Bob, first in line, is kept for the caller waiting ahead; Hal is free for this call.
    assert [r["name"] for r in body["would_ring"]] == ["Hal"]
    assert {e["name"]: e["reason"] for e in body["excluded"]}["Bob"] == "held_for_queue"


async def test_a_specialist_key_sees_colleagues_absent_but_not_why(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, keys: Any
) -> None:
    ids = await _arrange(db, clock)
    params = {"team": "support-en", "language": "en"}

    async def excluded(headers: dict[str, str]) -> dict[str, tuple[str, str]]:
        answer = await client.get("/v1/routing/explain", params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        return {e["name"]: (e["reason"], e["detail"]) for e in answer.json()["excluded"]}

    # Dee's own key sees her own leave; as /v1/overrides?specialist=<Eve> answers 403,
    # nobody else's key learns that Eve has a day off.
    dee = await excluded(await keys.headers("specialist", specialist_id=ids["Dee"]))
    assert dee["Dee"][0] == "on_leave"
    assert dee["Eve"] == ("off_shift", "not on shift now")
    eve = await excluded(await keys.headers("specialist", specialist_id=ids["Eve"]))
    assert eve["Dee"] == ("off_shift", "not on shift now")
    assert eve["Eve"][0] == "day_off"
    assert "moving house" not in str(eve)
    # Schedulers still see every reason.
    scheduler = await excluded(await keys.headers("scheduler"))
    assert scheduler["Dee"][0] == "on_leave" and scheduler["Eve"][0] == "day_off"
