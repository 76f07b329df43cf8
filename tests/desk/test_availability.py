"""Availability: who may set it, the audit entry, and routing leaving away people out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from app.core.clock import FixedClock
from app.core.db import Database
from app.models.console import ConsoleEvent
from app.models.rota import AuditEntry
from app.models.routing import SpecialistPresence
from app.routing import presence
from tests.routing.calls import add_call
from tests.telephony.rota_rows import Person, staff

ANN = Person("Ann", "+14155550001", ["en"])
BOB = Person("Bob", "client:bob", ["en"])


async def _explain(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    answer = await client.get(
        "/v1/routing/explain", params={"team": "support-en", "language": "en"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_away_and_offline_people_are_not_rung_and_say_why(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, keys: Any
) -> None:
    ids = await staff(db, clock.now(), {"support-en": [ANN, BOB]})
    scheduler = await keys.headers("scheduler")
    bob = await keys.headers("specialist", name="bob", specialist_id=ids["Bob"])
    assert [r["name"] for r in (await _explain(client, scheduler))["would_ring"]] == ["Ann", "Bob"]

    url = f"/v1/specialists/{ids['Bob']}/availability"
    before = await client.get(url, headers=bob)
    assert before.json() == {
        "specialist_id": ids["Bob"],
        "availability": "available",
        "since": None,
        "state": "free",
    }
    answer = await client.put(url, json={"availability": "away"}, headers=bob)
    assert answer.status_code == 200, answer.text
    assert answer.json()["availability"] == "away"
    body = await _explain(client, scheduler)
    assert [r["name"] for r in body["would_ring"]] == ["Ann"]
    assert {e["name"]: (e["reason"], e["detail"]) for e in body["excluded"]} == {
        "Bob": ("away", "set themselves away")
    }

    # A scheduler sets Ann offline: nobody left, and nobody to wait for either.
    ann_url = f"/v1/specialists/{ids['Ann']}/availability"
    answer = await client.put(ann_url, json={"availability": "offline"}, headers=scheduler)
    assert answer.status_code == 200, answer.text
    body = await _explain(client, scheduler)
    assert body["outcome"] == "nobody"
    assert {e["name"]: e["reason"] for e in body["excluded"]} == {"Ann": "away", "Bob": "away"}

    answer = await client.put(url, json={"availability": "available"}, headers=bob)
    assert [r["name"] for r in (await _explain(client, scheduler))["would_ring"]] == ["Bob"]

    async with db.transaction() as session:
        audit = (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.resource_type == "availability")
                .order_by(AuditEntry.id)
            )
        ).all()
        events = (await session.scalars(select(ConsoleEvent).order_by(ConsoleEvent.id))).all()
    assert [(a.actor, a.resource_id, a.before, a.after) for a in audit] == [
        ("bob", str(ids["Bob"]), {"availability": "available"}, {"availability": "away"}),
        (
            "scheduler-key",
            str(ids["Ann"]),
            {"availability": "available"},
            {"availability": "offline"},
        ),
        ("bob", str(ids["Bob"]), {"availability": "away"}, {"availability": "available"}),
    ]
    assert [(e.kind, e.specialist_id, e.data) for e in events] == [
        ("availability", ids["Bob"], {"availability": "away"}),
        ("availability", ids["Ann"], {"availability": "offline"}),
        ("availability", ids["Bob"], {"availability": "available"}),
    ]


async def test_only_the_person_a_scheduler_or_an_admin_may_set_it(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, keys: Any
) -> None:
    ids = await staff(db, clock.now(), {"support-en": [ANN, BOB]})
    url = f"/v1/specialists/{ids['Bob']}/availability"
    ann = await keys.headers("specialist", specialist_id=ids["Ann"])
    for headers, expected in (
        (ann, 403),
        (await keys.headers("viewer"), 403),
        ({}, 401),
        (await keys.headers("admin"), 200),
    ):
        answer = await client.put(url, json={"availability": "away"}, headers=headers)
        assert answer.status_code == expected, answer.text
    admin = await keys.headers("admin")
    bad = await client.put(url, json={"availability": "gone"}, headers=admin)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    missing = await client.put(
        "/v1/specialists/999999/availability", json={"availability": "away"}, headers=admin
    )
    assert missing.status_code == 404


async def test_reserving_skips_someone_who_went_away_after_the_decision(
    db: Database, clock: FixedClock
) -> None:
    # The decision was read while Bob was available; he went away before the reservation.
    now = clock.now()
    ids = await staff(db, now, {"support-en": [ANN, BOB]})
    async with db.transaction() as session:
        call_id = await add_call(session, now, status="in-progress", age=timedelta(seconds=5))
        session.add(
            SpecialistPresence(
                specialist_id=ids["Bob"], state="free", updated_at=now, availability="away"
            )
        )
    async with db.transaction() as session:
        got = await presence.reserve(
            session,
            [ids["Bob"], ids["Ann"]],
            want=2,
            call_id=call_id,
            now=now,
            ring_timeout=20,
            rowless={ids["Ann"]},
        )
    assert got == [ids["Ann"]]
