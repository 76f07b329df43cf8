"""Rota calculations in a worker process (ROTA_CALC_PROCESSES=1) answer as in a thread (0).

The rest of the suite calculates in a thread (tests/conftest.py); these tests start a real
worker process ("spawn") through the app's settings, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.core import calc_pool
from app.core.clock import FixedClock
from app.core.db import Database
from app.main import create_app
from app.rota import endpoints_queries, materialise, override_service, snapshot_work
from app.rota.calculator import LedgerRow, Rota
from app.rota.materialise import lock_window
from tests.conftest import Keys
from tests.rota_api.helpers import WEEKDAYS, Api, utc

COVERAGE = [{"days": WEEKDAYS, "start": "09:00", "end": "17:00", "min_staff": 2}]
RANGE = {"start": "2026-10-26T00:00:00Z", "end": "2026-12-14T00:00:00Z"}


def exploding_ledger(rota: Rota, start: datetime, end: datetime, now: datetime) -> list[LedgerRow]:
    """Stands in for lieu_ledger (module-level, so a worker process can import it)."""
    raise ValueError("the ledger broke")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test settings with one calculation worker process."""
    return settings.model_copy(update={"rota_calc_processes": 1})


@pytest.fixture
async def api(client: httpx.AsyncClient, keys: Keys) -> Api:
    """A scheduler's API."""
    return Api(client, await keys.headers("scheduler"))


@pytest.fixture
async def rota(api: Api) -> dict[str, Any]:
    """Team t: A, B, C on weekdays, weekend turns that earn days in lieu, a cover."""
    await api.team("t", coverage=COVERAGE)
    a, b, c = await api.people("t", "A", "B", "C")
    await api.rotation("t", [a, b, c], name="weekdays", effective_from=utc(2026, 10, 26))
    await api.rotation(
        "t",
        [a, b, c],
        name="weekend",
        days=["sat", "sun"],
        assignment="turns",
        earns_lieu=True,
        lieu_rule="wed",
        starts_on="2026-10-31",
        effective_from=utc(2026, 10, 31),
    )
    await api.override(
        kind="leave", specialist_id=b, start="2026-12-08T00:00:00Z", end="2026-12-10T00:00:00Z"
    )
    return {"A": a, "B": b, "C": c}


async def _answers(api: Api, rota: dict[str, Any]) -> dict[str, Any]:
    """Every calculation the rota API offers, as JSON."""
    out: dict[str, Any] = {}
    for name, path, params in [
        ("ledger", "/v1/rota/lieu-ledger", RANGE),
        ("ledger_b", "/v1/rota/lieu-ledger", {**RANGE, "specialist": rota["B"]}),
        ("schedule", "/v1/rota/schedule", {**RANGE, "team": "t"}),
        ("gaps", "/v1/rota/gaps", {**RANGE, "team": "t"}),
        ("fairness", "/v1/rota/fairness", RANGE),
        ("days_off", "/v1/days-off", RANGE),
    ]:
        answer = await api.get(path, **params)
        assert answer.status_code == 200, (name, answer.text)
        out[name] = answer.json()
    # A calendar feed (calendar clients poll these).
    feed = (await api.get(f"/v1/specialists/{rota['A']}")).json()["calendar_url"]
    answer = await api.client.get(httpx.URL(feed).path, params=httpx.URL(feed).params)
    assert answer.status_code == 200 and "BEGIN:VEVENT" in answer.text, answer.text
    out["feed"] = answer.text
    preview = await api.client.post(
        "/v1/overrides",
        params={"dry_run": "true"},
        json={
            "kind": "leave",
            "specialist_id": rota["C"],
            "start": "2026-12-07T00:00:00Z",
            "end": "2026-12-08T00:00:00Z",
        },
        headers=api.h,
    )
    assert preview.status_code == 200, preview.text
    out["preview"] = preview.json()
    # PostgreSQL's sequences do not roll back: each preview's override gets a new id.
    for item in out["preview"]["resource"]["overrides"]:
        item.pop("id")
    # Served from the stored shifts, which each write's refresh calculated.
    out["on_shift"] = await api.names_on_shift(utc(2026, 12, 9, 12))
    return out


async def test_a_worker_process_answers_as_a_thread_does(api: Api, rota: dict[str, Any]) -> None:
    assert calc_pool.processes() == 1
    in_process = await _answers(api, rota)
    workers = []
    for lane in (calc_pool.READS, calc_pool.WRITES):  # queries; a write's preview and refresh
        executor = calc_pool.executor(lane)
        assert executor is not None, f"nothing was calculated in the {lane} worker process"
        workers += list(executor._processes.values())  # type: ignore[attr-defined]
    assert len(workers) == 2 and all(w.pid != os.getpid() for w in workers)
    calc_pool.configure(0)  # the same app and data, now calculating in a thread
    assert not any(w.is_alive() for w in workers)
    in_thread = await _answers(api, rota)
    assert calc_pool.executor(calc_pool.READS) is calc_pool.executor(calc_pool.WRITES) is None
    assert in_process == in_thread
    assert in_process["on_shift"] and "B" not in in_process["on_shift"]  # B is on leave
    assert in_process["preview"]["removed"]


async def test_a_failing_calculation_answers_as_in_a_thread(
    api: Api, rota: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(endpoints_queries, "lieu_ledger", exploding_ledger)
    answers = []
    for processes in (1, 0):
        calc_pool.configure(processes)
        answer = await api.get("/v1/rota/lieu-ledger", **RANGE)
        body = answer.json()
        assert body.pop("error_id") and body.pop("detail")
        answers.append((answer.status_code, body))
    assert answers[0] == answers[1]
    assert answers[0][0] == 500 and answers[0][1]["title"] == "Internal server error"


async def test_the_lifespan_ends_the_worker_processes(
    settings: Settings, clock: FixedClock
) -> None:
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        assert calc_pool.processes() == 1
        assert await calc_pool.calculate(os.getpid) != os.getpid()
        executor = calc_pool.executor(calc_pool.WRITES)
        assert executor is not None
        workers = list(executor._processes.values())  # type: ignore[attr-defined]
        assert workers and all(w.is_alive() for w in workers)
    assert calc_pool.executor(calc_pool.WRITES) is None and calc_pool.processes() == 0
    assert not any(w.is_alive() for w in workers)


async def test_the_worker_runs_at_a_lower_priority_and_raises_as_called() -> None:
    calc_pool.configure(1)
    try:
        # The workers run only when the server leaves the CPU idle (Linux: SCHED_IDLE).
        assert os.sched_getscheduler(0) == os.SCHED_OTHER
        for run in (calc_pool.calculate, calc_pool.calculate_read):
            assert await run(os.sched_getscheduler, 0) == os.SCHED_IDLE
        with pytest.raises(ValueError, match="invalid literal"):
            await calc_pool.calculate(int, "not a number")
        # Calls at once share the worker; each gets its own answer.
        got = await asyncio.gather(*(calc_pool.calculate(abs, -i) for i in range(5)))
        assert got == [0, 1, 2, 3, 4]
    finally:
        calc_pool.close()
    assert calc_pool.processes() == 0
    assert await calc_pool.calculate(os.getpid) == os.getpid()  # a thread again


async def _an_extra_refused_then_one_after_the_shift(
    api: Api, rota: dict[str, Any], day: str
) -> dict[str, Any]:
    """A's extra over their 09-17 shift on `day` is refused; one from 18:00 is created."""
    extra = {
        "kind": "extra",
        "specialist_id": rota["A"],
        "team": "t",
        "start": f"{day}T12:00:00Z",
        "end": f"{day}T20:00:00Z",
    }
    refused = await api.client.post("/v1/overrides", json=extra, headers=api.h)
    assert refused.status_code == 409, refused.text
    assert "is already on shift" in refused.json()["detail"]
    evening = {**extra, "start": f"{day}T18:00:00Z", "end": f"{day}T22:00:00Z"}
    assert len(await api.override(**evening)) == 1
    return evening


async def test_the_worker_reads_the_rules_itself(
    api: Api, rota: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a worker process, the server loads no snapshot for a query or a refresh: the
    worker reads the database over its own connection (the server's event loop and, on
    SQLite, its one connection stay free for the webhooks)."""
    calc_pool.configure(0)
    in_thread_ledger = (await api.get("/v1/rota/lieu-ledger", **RANGE)).json()
    calc_pool.configure(1)

    def no_loading(*_: Any, **__: Any) -> None:
        raise AssertionError("the server loaded a snapshot")

    monkeypatch.setattr(snapshot_work, "load_snapshot", no_loading)
    monkeypatch.setattr(materialise, "load_snapshot", no_loading)
    for path, params in [
        ("/v1/rota/lieu-ledger", RANGE),
        ("/v1/rota/schedule", {**RANGE, "team": "t"}),
        ("/v1/rota/gaps", {**RANGE, "team": "t"}),
        ("/v1/rota/fairness", RANGE),
    ]:
        answer = await api.get(path, **params)
        assert answer.status_code == 200, (path, answer.text)
        if path.endswith("ledger"):
            assert answer.json() == in_thread_ledger
    # A write's refresh: the stored shifts change, calculated and read by the worker.
    assert "C" in await api.names_on_shift(utc(2026, 12, 11, 12))
    await api.override(
        kind="leave",
        specialist_id=rota["C"],
        start="2026-12-11T00:00:00Z",
        end="2026-12-12T00:00:00Z",
    )
    assert "C" not in await api.names_on_shift(utc(2026, 12, 11, 12))
    # The double-booking check of a new extra: the worker adds the uncommitted row itself.
    evening = await _an_extra_refused_then_one_after_the_shift(api, rota, "2026-12-11")
    # A second one over the first extra is refused: the first is committed and read back.
    refused = await api.client.post(
        "/v1/overrides", json={**evening, "start": "2026-12-11T21:00:00Z"}, headers=api.h
    )
    assert refused.status_code == 409, refused.text
    assert "extra override" in refused.json()["detail"]


async def test_a_cover_is_checked_before_the_lock_and_again_only_after_a_write(
    api: Api, rota: dict[str, Any], db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The double-booking check runs in the worker before the rota lock is taken; under
    the lock it runs again only when another rota write committed in between."""
    calc_pool.configure(1)
    under_lock: list[int] = []
    real_check = override_service._refuse_double_booking

    async def counted(session: Any, rows: Any, slugs: Any) -> None:
        under_lock.append(len(rows))
        await real_check(session, rows, slugs)

    monkeypatch.setattr(override_service, "_refuse_double_booking", counted)
    evening = await _an_extra_refused_then_one_after_the_shift(api, rota, "2026-12-14")
    assert under_lock == []  # both answered by the check made before the lock

    # Another rota write commits between the check and the lock: checked again under it.
    real_precheck = override_service.precheck_double_booking

    async def then_a_write(session: Any, data: Any) -> Any:
        found = await real_precheck(session, data)
        async with db.transaction() as other:
            await lock_window(other)
        return found

    monkeypatch.setattr(override_service, "precheck_double_booking", then_a_write)
    later = {**evening, "start": "2026-12-14T21:00:00Z", "end": "2026-12-14T23:00:00Z"}
    refused = await api.client.post("/v1/overrides", json=later, headers=api.h)
    assert refused.status_code == 409, refused.text
    assert "extra override" in refused.json()["detail"]
    assert under_lock == [1]
