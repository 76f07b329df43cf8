"""The wallboard: waiting callers and the oldest wait, people by status, today's figures,
alert colours with reasons; the team's thresholds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from app.core.clock import FixedClock
from app.core.db import Database
from app.models.call import Call
from app.models.routing import QueueEntry, SpecialistPresence
from app.routing.wallboard import Thresholds, alert
from tests.routing.calls import add_call
from tests.telephony.rota_rows import Person, staff

ANN = Person("Ann", "+14155550001", ["en"])
BOB = Person("Bob", "+14155550002", ["en"])
CY = Person("Cy", "+14155550003", ["en"])
DEE = Person("Dee", "+14155550004", ["en"])


async def test_tiles_count_waiting_callers_and_what_people_do(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, keys: Any
) -> None:
    now = clock.now()
    ids = await staff(db, now, {"support-en": [ANN, BOB, CY, DEE], "support-ja": []})
    async with db.transaction() as session:
        talking = await add_call(session, now, status="in-progress", age=timedelta(minutes=4))
        for age in (timedelta(seconds=200), timedelta(seconds=30)):
            waiting = await add_call(session, now, status="in-progress", age=age)
            session.add(
                QueueEntry(
                    call_id=waiting,
                    team="support-en",
                    language="en",
                    priority=0,
                    enqueued_at=now - age,
                    deadline=now + timedelta(minutes=5),
                    state="waiting",
                    updated_at=now,
                )
            )
        await session.execute(update(Call).values(team="support-en"))
        session.add(
            SpecialistPresence(
                specialist_id=ids["Ann"],
                state="busy",
                call_id=talking,
                held_until=now + timedelta(hours=1),
                updated_at=now,
            )
        )
        session.add(
            SpecialistPresence(
                specialist_id=ids["Bob"], state="free", updated_at=now, availability="away"
            )
        )
        session.add(
            SpecialistPresence(
                specialist_id=ids["Cy"], state="free", updated_at=now, availability="offline"
            )
        )
    answer = await client.get("/v1/wallboard", headers=await keys.headers("viewer"))
    assert answer.status_code == 200, answer.text
    tiles = {t["team"]: t for t in answer.json()["tiles"]}
    assert list(tiles) == [None, "support-en", "support-ja"]
    en = tiles["support-en"]
    assert (en["waiting"], en["oldest_wait_seconds"]) == (2, 200)
    assert en["people"] == {"available": 1, "ringing": 0, "on_call": 1, "away": 1, "offline": 1}
    assert [(p["name"], p["status"]) for p in en["on_shift"]] == [
        ("Dee", "available"),
        ("Ann", "on_call"),
        ("Bob", "away"),
        ("Cy", "offline"),
    ]
    assert en["level"] == "red"
    assert en["reasons"] == ["a caller has waited 3:20 (red from 3:00)"]
    assert en["today"]["offered"] == 3
    assert tiles[None]["waiting"] == 2 and tiles["support-ja"]["level"] == "ok"

    # A scheduler lowers the team's thresholds... and raises them.
    scheduler = await keys.headers("scheduler")
    settings = {
        "wait_amber_seconds": 300,
        "wait_red_seconds": 600,
        "service_level_amber": 80,
        "service_level_red": 50,
        "swaps_need_approval": True,
    }
    put = await client.put(
        "/v1/teams/support-en/console-settings", json=settings, headers=scheduler
    )
    assert put.status_code == 200, put.text
    again = await client.get("/v1/wallboard", params={"team": "support-en"}, headers=scheduler)
    (only,) = again.json()["tiles"]
    assert only["level"] == "ok" and only["thresholds"] == settings
    backwards = await client.put(
        "/v1/teams/support-en/console-settings",
        json={**settings, "wait_red_seconds": 10},
        headers=scheduler,
    )
    assert backwards.status_code == 422
    specialist = await keys.headers("specialist")
    assert (await client.get("/v1/wallboard", headers=specialist)).status_code == 403
    unknown = await client.get("/v1/wallboard", params={"team": "nope"}, headers=scheduler)
    assert unknown.status_code == 422


def test_alerts_say_why() -> None:
    limits = Thresholds()
    assert alert(limits, waiting=0, oldest=None, available=0, service_level=None) == ("ok", [])
    assert alert(limits, waiting=1, oldest=61, available=2, service_level=0.9) == (
        "amber",
        ["a caller has waited 1:01 (amber from 1:00)"],
    )
    assert alert(limits, waiting=1, oldest=5, available=0, service_level=0.55) == (
        "red",
        ["service level 55% (red below 60%)", "1 waiting and nobody available"],
    )
    assert alert(limits, waiting=0, oldest=None, available=1, service_level=0.7)[0] == "amber"
