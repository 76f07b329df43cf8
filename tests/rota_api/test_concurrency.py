"""Two schedulers writing at once, through two app instances with their own connections."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
from sqlalchemy import select

from app.config import Settings
from app.core.clock import FixedClock
from app.core.db import Database
from app.models.rota import ShiftInstance
from app.rota.calculator import final_schedule
from app.rota.materialise import window
from app.rota.repository import load_snapshot
from tests.conftest import Keys
from tests.rota_api.helpers import Api, assert_problem, second_client, utc

ROUNDS = 3


async def stored_matches_calculation(db: Database) -> None:
    """The materialised shifts are exactly the calculated final schedule of the window."""
    async with db.transaction() as session:
        win = await window(session)
        assert win is not None
        snapshot = await load_snapshot(session, win.starts_at, win.ends_at)
        expected = Counter(
            (s.key, s.specialist_id, snapshot.team_ids[s.team], s.start, s.end)
            for s in final_schedule(snapshot.rota, win.starts_at, win.ends_at)
        )
        stored = Counter(
            (r.key, r.specialist_id, r.team_id, r.starts_at, r.ends_at)
            for r in await session.scalars(select(ShiftInstance))
        )
    assert stored == expected


async def _race(
    first: httpx.AsyncClient,
    second: httpx.AsyncClient,
    path: str,
    bodies: tuple[dict[str, Any], dict[str, Any]],
    headers: dict[str, str],
) -> list[httpx.Response]:
    """The same PUT with two bodies, sent at once through the two apps."""
    return list(
        await asyncio.gather(
            first.put(path, json=bodies[0], headers=headers),
            second.put(path, json=bodies[1], headers=headers),
        )
    )


def _one_winner(responses: list[httpx.Response]) -> int:
    """Exactly one 200 and one 412 problem; returns the index of the winner."""
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 412], [r.text for r in responses]
    assert_problem(next(r for r in responses if r.status_code == 412), 412)
    return next(i for i, r in enumerate(responses) if r.status_code == 200)


async def test_concurrent_rotation_updates_with_one_etag(
    client: httpx.AsyncClient, keys: Keys, settings: Settings, clock: FixedClock, db: Database
) -> None:
    api = Api(client, await keys.headers("scheduler"))
    async with second_client(settings, clock) as other:
        await api.team("t")
        a, b, c = await api.people("t", "A", "B", "C")
        rot = await api.rotation("t", [a, b], effective_from=utc(2026, 11, 1))
        path = f"/v1/rotations/{rot['id']}"
        rules = {"days": ["mon", "tue", "wed"], "start": "09:00", "end": "17:00"}
        for round_no in range(ROUNDS):
            tag = await api.etag(path)
            bodies = (
                {
                    **rules,
                    "members": [a, c],
                    "effective_from": f"2026-12-0{round_no + 1}T00:00:00Z",
                },
                {
                    **rules,
                    "members": [b, c],
                    "effective_from": f"2026-12-0{round_no + 1}T12:00:00Z",
                },
            )
            winner = _one_winner(await _race(client, other, path, bodies, api.hdr(tag)))
            got = (await api.get(path)).json()
            # One new version per round: the loser left no trace.
            assert len(got["versions"]) == 2 + round_no
            assert got["versions"][-1]["members"] == bodies[winner]["members"]
            assert got["versions"][-1]["effective_from"] == bodies[winner]["effective_from"]
            entries = await api.audit(resource_type="rotation", resource_id=str(rot["id"]))
            assert [e["action"] for e in entries].count("update") == round_no + 1
    await stored_matches_calculation(db)


async def test_concurrent_team_updates_with_one_etag(
    client: httpx.AsyncClient, keys: Keys, settings: Settings, clock: FixedClock, db: Database
) -> None:
    api = Api(client, await keys.headers("scheduler"))
    base = {"slug": "t", "time_zone": "UTC", "languages": ["en"], "coverage": []}
    async with second_client(settings, clock) as other:
        await api.team("t")
        for round_no in range(ROUNDS):
            tag = await api.etag("/v1/teams/t")
            bodies = (
                {**base, "name": f"first {round_no}"},
                {**base, "name": f"second {round_no}", "time_zone": "Europe/Dublin"},
            )
            winner = _one_winner(await _race(client, other, "/v1/teams/t", bodies, api.hdr(tag)))
            got = await api.get("/v1/teams/t")
            assert got.json()["name"] == bodies[winner]["name"]
            assert got.json()["time_zone"] == bodies[winner]["time_zone"]
            assert got.headers["etag"] != tag
            entries = await api.audit(resource_type="team", resource_id="t")
            assert [e["action"] for e in entries].count("update") == round_no + 1
            assert entries[0]["after"]["name"] == bodies[winner]["name"]
    await stored_matches_calculation(db)


async def test_concurrent_writes_to_one_team_keep_stored_shifts_consistent(
    client: httpx.AsyncClient, keys: Keys, settings: Settings, clock: FixedClock, db: Database
) -> None:
    """Two rotations of one team changed at once: both land, and no shift is stored twice."""
    api = Api(client, await keys.headers("scheduler"))
    async with second_client(settings, clock) as other:
        await api.team("t")
        a, b, c = await api.people("t", "A", "B", "C")
        early = await api.rotation("t", [a], name="early", start="06:00", end="14:00")
        late = await api.rotation("t", [b], name="late", start="14:00", end="22:00")
        for round_no, members in enumerate(([a, c], [c], [b, c])):
            early_tag = await api.etag(f"/v1/rotations/{early['id']}")
            late_tag = await api.etag(f"/v1/rotations/{late['id']}")
            responses = await asyncio.gather(
                client.put(
                    f"/v1/rotations/{early['id']}",
                    json={"members": members, "days": ["mon"], "start": "06:00", "end": "14:00"},
                    headers=api.hdr(early_tag),
                ),
                other.put(
                    f"/v1/rotations/{late['id']}",
                    json={"members": members, "days": ["wed"], "start": "14:00", "end": "22:00"},
                    headers=api.hdr(late_tag),
                ),
            )
            assert [r.status_code for r in responses] == [200, 200], round_no
            await stored_matches_calculation(db)
    assert await api.names_on_shift(utc(2026, 11, 23, 10)) == ["B", "C"]
    assert await api.names_on_shift(utc(2026, 11, 25, 15)) == ["B", "C"]


async def test_concurrent_moves_of_one_day_off_in_lieu(
    client: httpx.AsyncClient, keys: Keys, settings: Settings, clock: FixedClock, db: Database
) -> None:
    """The first move of an automatic day off creates its adjustment: only one may."""
    api = Api(client, await keys.headers("scheduler"))
    async with second_client(settings, clock) as other:
        await api.team("t")
        a, b = await api.people("t", "A", "B")
        weekend = await api.rotation(
            "t",
            [a, b],
            name="weekend",
            days=["sat"],
            assignment="turns",
            earns_lieu=True,
            lieu_rule="wed",
            starts_on="2026-11-21",
            effective_from=utc(2026, 11, 1),
        )
        path = f"/v1/days-off/lieu:{weekend['id']}:2026-11-21:{a}"
        tag = (await api.get(path + "/etag")).json()["etag"]
        responses = list(
            await asyncio.gather(
                client.patch(path, json={"day": "2026-11-26"}, headers=api.hdr(tag)),
                other.patch(path, json={"day": "2026-11-27"}, headers=api.hdr(tag)),
            )
        )
        winner = _one_winner(responses)
        (day_off,) = await api.days_off(utc(2026, 11, 23), utc(2026, 11, 28))
        assert day_off["day"] == ["2026-11-26", "2026-11-27"][winner]
        entries = await api.audit(resource_type="day-off")
        assert [e["action"] for e in entries] == ["move"]
    await stored_matches_calculation(db)
