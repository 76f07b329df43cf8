"""The live-line gauges on /metrics: read in the background, served per scrape, zeros included."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from itertools import count

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete, event
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.core.clock import FixedClock
from app.core.db import Database
from app.main import create_app
from app.models.rota import Team
from app.models.routing import QueueEntry, SpecialistPresence
from app.routing import metrics
from tests.conftest import make_specialist
from tests.routing.calls import add_call
from tests.telephony.rota_rows import Person, staff

TEAM_GAUGES = (
    "switchboard_queue_length",
    "switchboard_queue_oldest_wait_seconds",
    "switchboard_specialists_on_shift",
    "switchboard_specialists_busy",
)

_sids = count(1)


def gauges(text: str) -> dict[str, dict[str, float]]:
    """Switchboard gauges by name, then by team label ('' when unlabelled)."""
    return {
        family.name: {s.labels.get("team", ""): s.value for s in family.samples}
        for family in text_string_to_metric_families(text)
        if family.type == "gauge" and family.name.startswith("switchboard_")
    }


def person(name: str) -> Person:
    return Person(name, f"+1415555{next(_sids):04d}", ["en"])


async def enqueue(
    session: AsyncSession, now: datetime, team: str, *, state: str, waited: timedelta
) -> None:
    """Put a caller (a call in progress, unless it left) in a team's queue."""
    left = state == "left"
    call_id = await add_call(
        session,
        now,
        status="completed" if left else "in-progress",
        age=waited + timedelta(seconds=20),
        ended=left,
    )
    session.add(
        QueueEntry(
            call_id=call_id,
            team=team,
            language="en",
            priority=0,
            enqueued_at=now - waited,
            deadline=now - waited + timedelta(minutes=5),
            state=state,
            left_at=now if left else None,
            result="abandoned" if left else None,
            updated_at=now,
        )
    )


async def scrape(app: FastAPI, client: httpx.AsyncClient) -> httpx.Response:
    """What a scrape shows once the keeper has read the line (as it does every few seconds)."""
    await app.state.live_line.refresh()
    return await client.get("/metrics")


async def test_live_line_gauges_per_team_with_zeros_for_an_idle_team(
    app: FastAPI, client: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    now = clock.now()
    ids = await staff(
        db,
        now,
        {
            "desk": [person("Ann"), person("Bob"), person("Cy")],
            "billing": [person("Cy"), person("Dee")],
            "idle": [],
        },
    )
    async with db.transaction() as session:
        # Counted: a connected call, a ringing one and the three callers in the desk queue.
        await add_call(session, now, status="in-progress", age=timedelta(minutes=10))
        await add_call(session, now, status="ringing", age=timedelta(minutes=1))
        # Not counted: a finished call, and a 5-hour-old one whose end was never reported.
        await add_call(session, now, status="completed", age=timedelta(minutes=3), ended=True)
        await add_call(session, now, status="in-progress", age=timedelta(hours=5))
        await enqueue(session, now, "desk", state="waiting", waited=timedelta(seconds=90))
        await enqueue(session, now, "desk", state="waiting", waited=timedelta(seconds=30))
        # Being offered to a specialist, and gone: neither is waiting.
        await enqueue(session, now, "desk", state="ringing", waited=timedelta(minutes=5))
        await enqueue(session, now, "billing", state="left", waited=timedelta(minutes=10))
        eve = await make_specialist(session, clock, name="Eve Off Shift")
        session.add_all(
            [
                SpecialistPresence(
                    specialist_id=ids["Ann"],
                    state="busy",
                    held_until=now + timedelta(hours=1),
                    updated_at=now,
                ),
                # Ringing, but the lease ran out: free again.
                SpecialistPresence(
                    specialist_id=ids["Bob"],
                    state="ringing",
                    held_until=now - timedelta(seconds=1),
                    updated_at=now,
                ),
                # Busy for both of her teams.
                SpecialistPresence(
                    specialist_id=ids["Cy"],
                    state="ringing",
                    held_until=now + timedelta(seconds=60),
                    updated_at=now,
                ),
                SpecialistPresence(specialist_id=ids["Dee"], state="free", updated_at=now),
                # Busy but not on shift for anyone.
                SpecialistPresence(
                    specialist_id=eve,
                    state="busy",
                    held_until=now + timedelta(hours=1),
                    updated_at=now,
                ),
            ]
        )

    response = await scrape(app, client)

    assert response.status_code == 200
    got = gauges(response.text)
    assert got["switchboard_live_metrics_up"] == {"": 1.0}
    assert got["switchboard_calls_in_progress"] == {"": 5.0}
    assert got["switchboard_queue_length"] == {"billing": 0.0, "desk": 2.0, "idle": 0.0}
    assert got["switchboard_queue_oldest_wait_seconds"] == {
        "billing": 0.0,
        "desk": 90.0,
        "idle": 0.0,
    }
    assert got["switchboard_specialists_on_shift"] == {"billing": 2.0, "desk": 3.0, "idle": 0.0}
    assert got["switchboard_specialists_busy"] == {"billing": 1.0, "desk": 2.0, "idle": 0.0}


async def test_a_deleted_team_leaves_the_next_reading(
    app: FastAPI, client: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    await staff(db, clock.now(), {"desk": [person("Ann")], "idle": []})
    first = gauges((await scrape(app, client)).text)
    assert all(set(first[name]) == {"desk", "idle"} for name in TEAM_GAUGES)

    async with db.transaction() as session:
        await session.execute(delete(Team).where(Team.slug == "idle"))
    second = gauges((await scrape(app, client)).text)

    assert all(set(second[name]) == {"desk"} for name in TEAM_GAUGES)
    assert second["switchboard_specialists_on_shift"] == {"desk": 1.0}


async def test_unreachable_database_still_answers_with_up_zero(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await client.get("/healthz")
    good = app.state.db
    app.state.db = Database.from_url("sqlite+aiosqlite:////nonexistent/dir/switchboard.db")
    try:
        response = await scrape(app, client)
    finally:
        await app.state.db.dispose()
        app.state.db = good

    assert response.status_code == 200
    got = gauges(response.text)
    assert got["switchboard_live_metrics_up"] == {"": 0.0}
    assert not set(TEAM_GAUGES) & got.keys()
    assert "switchboard_calls_in_progress" not in got
    assert 'switchboard_http_requests_total{method="GET",route="/healthz"' in response.text


async def test_a_hanging_database_gives_up_in_time(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def hang(session: AsyncSession, now: datetime) -> metrics.LiveLine:
        await asyncio.sleep(60)
        raise AssertionError("not reached")

    monkeypatch.setattr(metrics, "READ_TIMEOUT_SECONDS", 0.05)
    monkeypatch.setattr(metrics, "read_live_line", hang)

    response = await scrape(app, client)

    assert response.status_code == 200
    assert gauges(response.text)["switchboard_live_metrics_up"] == {"": 0.0}


async def test_scrapes_never_query_the_database(
    app: FastAPI, client: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    await staff(db, clock.now(), {"desk": [person("Ann")]})
    await app.state.live_line.refresh()
    statements: list[str] = []

    def count_statement(*args: object) -> None:
        statements.append(str(args[2]))

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        texts = [(await client.get("/metrics")).text for _ in range(5)]
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)

    assert statements == []
    for text in texts:
        got = gauges(text)
        assert got["switchboard_specialists_on_shift"] == {"desk": 1.0}
        assert got["switchboard_live_metrics_age_seconds"][""] >= 0.0


async def test_the_keeper_reads_the_line_on_its_own(
    app: FastAPI, db: Database, clock: FixedClock
) -> None:
    await staff(db, clock.now(), {"desk": [person("Ann")]})
    keeper = metrics.LiveLineKeeper(lambda: app.state.db, clock)
    task = asyncio.create_task(keeper.run(0.01))
    try:
        for _ in range(500):
            if keeper.reading.up:
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert keeper.reading.up
    assert keeper.reading.teams["desk"].on_shift == 1


async def test_a_metrics_token_is_required_when_set(settings: Settings, clock: FixedClock) -> None:
    application = create_app(
        settings.model_copy(update={"metrics_token": "m-token-123456"}), clock=clock
    )
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            missing = await http.get("/metrics")
            wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
            right = await http.get("/metrics", headers={"Authorization": "Bearer m-token-123456"})
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert "switchboard_live_metrics_up" in right.text
