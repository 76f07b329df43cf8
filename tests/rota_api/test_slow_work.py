"""Slow rota work holds nothing a webhook waits for, and recomputes only what an edit touched.

Each calculation is watched as it starts (in a worker thread: the suite runs with
ROTA_CALC_PROCESSES=0, see tests/conftest.py): the app's pool must then
have no connection checked out, so no transaction (and no rota lock) is held while it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import Principal
from app.core.clock import FixedClock
from app.core.db import Database, after_commit
from app.rota import endpoints_queries, materialise, writes
from app.rota.override_service import create_override
from app.rota.page_writes import apply_edit
from app.rota.rules import Rota
from app.rota.schemas import OverrideIn
from app.rota.writes import RotaWrite
from tests.conftest import Keys
from tests.desk.swap_team import MONDAY, as_specialist, swap_team
from tests.rota_api.helpers import Api, iso, utc
from tests.rota_api.test_concurrency import stored_matches_calculation


class Watch:
    """Wraps a calculator function: records the connections held and the teams of each call."""

    def __init__(self, app: FastAPI, real: Callable[..., Any]) -> None:
        self.app = app
        self.real = real
        self.held: list[int] = []
        self.teams: list[set[str]] = []

    def __call__(self, rota: Rota, *args: Any, **kwargs: Any) -> Any:
        self.held.append(self.app.state.db.engine.pool.checkedout())
        self.teams.append(set(rota.teams))
        return self.real(rota, *args, **kwargs)


def watch(app: FastAPI, monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> Watch:
    spy = Watch(app, getattr(module, name))
    monkeypatch.setattr(module, name, spy)
    return spy


async def two_teams(api: Api) -> dict[str, list[int]]:
    """Teams a and b with their own people and weekday rotations (nobody in both)."""
    out: dict[str, list[int]] = {}
    for slug in ("a", "b"):
        await api.team(slug)
        out[slug] = await api.people(slug, f"{slug}1", f"{slug}2")
        await api.rotation(slug, out[slug], name=f"{slug}-days", effective_from=utc(2026, 11, 1))
    return out


async def test_a_write_refreshes_stored_shifts_with_no_connection_held(
    app: FastAPI,
    client: httpx.AsyncClient,
    keys: Keys,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = Api(client, await keys.headers("scheduler"))
    people = await two_teams(api)
    spy = watch(app, monkeypatch, materialise, "final_schedule")

    await api.override(
        kind="leave",
        specialist_id=people["a"][0],
        start=utc(2026, 11, 23),
        end=utc(2026, 11, 28),
    )

    assert spy.held, "the write refreshed nothing"
    assert spy.held == [0] * len(spy.held)
    # Only the part of the rota linked to the person on leave was calculated.
    assert spy.teams == [{"a"}] * len(spy.teams)
    await stored_matches_calculation(db)
    names = await api.names_on_shift(utc(2026, 11, 24, 10))
    assert names == ["a2", "b1", "b2"]


async def test_a_preview_calculates_with_nothing_held_and_only_the_part_touched(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = Api(client, await keys.headers("scheduler"))
    people = await two_teams(api)
    spy = watch(app, monkeypatch, writes, "final_schedule")
    body = {
        "kind": "leave",
        "specialist_id": people["b"][1],
        "start": iso(utc(2026, 11, 23)),
        "end": iso(utc(2026, 11, 24)),
    }

    answer = await client.post(
        "/v1/overrides", json=body, params={"dry_run": "true"}, headers=api.h
    )

    assert answer.status_code == 200, answer.text
    change = answer.json()
    assert [(s["specialist_name"], s["start"]) for s in change["removed"]] == [
        ("b2", "2026-11-23T09:00:00Z")
    ]
    assert change["added"] == []
    assert spy.held and spy.held == [0] * len(spy.held)
    assert spy.teams == [{"b"}] * len(spy.teams)
    # Nothing was written: the leave is not there.
    assert await api.names_on_shift(utc(2026, 11, 23, 10)) == ["a1", "a2", "b1", "b2"]


async def test_an_edit_touching_two_linked_teams_keeps_every_stored_shift_right(
    app: FastAPI,
    client: httpx.AsyncClient,
    keys: Keys,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = Api(client, await keys.headers("scheduler"))
    people = await two_teams(api)
    # "both" works b's evenings and a's weekends, earning days off in lieu there that take
    # out their evening shifts in b.
    both = await api.specialist("both", ["a", "b"])
    await api.rotation(
        "b", [both], name="b-evenings", start="17:00", end="22:00", effective_from=utc(2026, 11, 1)
    )
    await api.rotation(
        "a",
        [both],
        name="a-weekends",
        days=["sat", "sun"],
        earns_lieu=True,
        effective_from=utc(2026, 11, 1),
    )
    spy = watch(app, monkeypatch, materialise, "final_schedule")

    await api.override(
        kind="leave", specialist_id=people["a"][0], start=utc(2026, 11, 28), end=utc(2026, 11, 30)
    )
    await api.override(
        kind="cover",
        specialist_id=people["b"][0],
        substitute_id=people["b"][1],
        team="b",
        start=utc(2026, 12, 5),
        end=utc(2026, 12, 7),
    )

    # The leave of a1 reaches team b through "both", who works for both.
    assert spy.teams and all(t == {"a", "b"} for t in spy.teams)
    await stored_matches_calculation(db)


async def test_a_specialists_ledger_is_bounded_and_calculated_with_nothing_held(
    app: FastAPI,
    client: httpx.AsyncClient,
    keys: Keys,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = Api(client, await keys.headers("scheduler"))
    people = await two_teams(api)
    await api.rotation(
        "a",
        [people["a"][0]],
        name="a-weekends",
        days=["sat"],
        earns_lieu=True,
        effective_from=utc(2026, 10, 1),
    )
    own = await keys.headers("specialist", specialist_id=people["a"][0])
    admin = await keys.headers("admin")
    now = clock.now()
    spy = watch(app, monkeypatch, endpoints_queries, "lieu_ledger")

    def ledger(days: int, headers: dict[str, str]) -> Any:
        params = {"start": iso(now - timedelta(days=days)), "end": iso(now)}
        return client.get("/v1/rota/lieu-ledger", params=params, headers=headers)

    too_long = await ledger(400, own)
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["field"] == "query.end"
    assert spy.held == []  # refused before any work

    half_year = await ledger(184, own)
    assert half_year.status_code == 200, half_year.text
    rows = half_year.json()
    assert [(r["specialist_id"], r["earned"] > 0) for r in rows] == [(people["a"][0], True)]
    assert spy.teams == [{"a"}]  # only the part of the rota linked to them
    assert (await ledger(400, admin)).status_code == 200  # schedulers and admins: 400 days
    assert spy.held == [0, 0]


async def test_queries_calculate_with_nothing_held(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = Api(client, await keys.headers("scheduler"))
    await two_teams(api)
    spy = watch(app, monkeypatch, endpoints_queries, "schedule_and_days_off")

    shifts = await api.schedule(utc(2026, 11, 23), utc(2026, 11, 30), team="a")

    assert len(shifts) == 10
    assert spy.held == [0]


async def test_an_accepted_swap_refreshes_after_its_commit_with_nothing_held(
    app: FastAPI,
    client: httpx.AsyncClient,
    keys: Keys,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api, ids = await swap_team(client, keys)
    ann, cy = [await as_specialist(keys, ids, name) for name in ("Ann", "Cy")]
    monday = {"team": "t", "start": iso(MONDAY[0]), "end": iso(MONDAY[1])}
    asked = await client.post(
        "/v1/swaps", json={"kind": "ask", "teammate_id": ids["Cy"], **monday}, headers=ann
    )
    assert asked.status_code == 201, asked.text
    spy = watch(app, monkeypatch, materialise, "final_schedule")

    taken = await client.post(f"/v1/swaps/{asked.json()['id']}/accept", headers=cy)

    assert taken.status_code == 200, taken.text
    assert spy.held and spy.held == [0] * len(spy.held)  # after the commit: nothing held
    await stored_matches_calculation(db)
    assert await api.names_on_shift(utc(2026, 11, 23, 10)) == ["Cy"]


async def test_a_console_page_edit_refreshes_after_its_commit_with_nothing_held(
    app: FastAPI,
    client: httpx.AsyncClient,
    keys: Keys,
    db: Database,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = Api(client, await keys.headers("scheduler"))
    people = await two_teams(api)
    spy = watch(app, monkeypatch, materialise, "final_schedule")

    async def leave(session: AsyncSession, write: RotaWrite) -> Any:
        data = OverrideIn(
            kind="leave",
            specialist_id=people["a"][0],
            start=utc(2026, 11, 23),
            end=utc(2026, 11, 28),
        )
        return await create_override(session, data, write, allow_past=False)

    principal = Principal(key_id=0, name="page", role="scheduler", specialist_id=None)
    await apply_edit(app.state.db, principal, clock.now(), leave)

    assert spy.held and spy.held == [0] * len(spy.held)
    assert spy.teams == [{"a"}] * len(spy.teams)
    await stored_matches_calculation(db)
    assert await api.names_on_shift(utc(2026, 11, 24, 10)) == ["a2", "b1", "b2"]


async def test_a_rolled_back_write_refreshes_nothing(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys, clock: FixedClock
) -> None:
    api = Api(client, await keys.headers("scheduler"))
    await two_teams(api)
    ran: list[Database] = []

    async def record(db: Database) -> None:
        ran.append(db)

    with pytest.raises(RuntimeError):
        async with app.state.db.transaction() as session:
            after_commit(session, record)
            raise RuntimeError("the edit failed")
    assert ran == []
    async with app.state.db.transaction() as session:
        after_commit(session, record)
    assert ran == [app.state.db]


async def test_a_refresh_reads_without_taking_a_write_lock(
    client: httpx.AsyncClient, keys: Keys, db: Database, clock: FixedClock
) -> None:
    """The refresh's read (in the calculation worker, which runs at idle priority) must not
    write: on SQLite any INSERT, even one that inserts nothing, takes the database's write
    lock, and every webhook's write would wait while the worker, starved of CPU by the
    server, holds it (seen in the benchmark: inserts of calls waiting 0.1-0.6 s)."""
    api = Api(client, await keys.headers("scheduler"))
    await two_teams(api)
    async with db.transaction() as session:
        await materialise._read(session, clock.now(), None, set())
        if db.is_sqlite:
            raw = await (await session.connection()).get_raw_connection()
            assert not raw.driver_connection._conn.in_transaction  # type: ignore[union-attr]
        else:
            assert await session.scalar(text("SELECT txid_current_if_assigned()")) is None
