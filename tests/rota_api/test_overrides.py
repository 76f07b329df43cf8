"""Overrides through the API: cover (whole, part), swap, leave, extra, cancelling."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from app.core.clock import FixedClock
from app.core.db import Database
from tests.conftest import Keys
from tests.rota_api.helpers import Api, assert_problem, instant, rota_state, span, utc

DAILY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@pytest.fixture
async def api(client: httpx.AsyncClient, keys: Keys) -> Api:
    """A scheduler's API."""
    return Api(client, await keys.headers("scheduler"))


@pytest.fixture
async def rota(api: Api) -> dict[str, Any]:
    """Team t (UTC): A works days 08-20, B nights 20-08, every day; C and D stand by."""
    await api.team("t")
    a, b, c, d = await api.people("t", "A", "B", "C", "D")
    since = utc(2026, 11, 1)
    days = await api.rotation(
        "t", [a], name="days", days=DAILY, start="08:00", end="20:00", effective_from=since
    )
    nights = await api.rotation(
        "t", [b], name="nights", days=DAILY, start="20:00", end="08:00", effective_from=since
    )
    return {"A": a, "B": b, "C": c, "D": d, "days": days["id"], "nights": nights["id"]}


def _pieces(shifts: list[dict[str, Any]]) -> list[tuple[str, datetime, datetime, str]]:
    return [(s["specialist_name"], *span(s), s["source"]["kind"]) for s in shifts]


async def test_whole_shift_cover(api: Api, rota: dict[str, Any]) -> None:
    (cover,) = await api.override(
        kind="cover",
        specialist_id=rota["A"],
        substitute_id=rota["C"],
        start=utc(2026, 11, 23, 8),
        end=utc(2026, 11, 23, 20),
        reason="dentist",
    )
    day = await api.schedule(utc(2026, 11, 23, 8), utc(2026, 11, 23, 20))
    assert _pieces(day) == [("C", utc(2026, 11, 23, 8), utc(2026, 11, 23, 20), "cover")]
    (on,) = await api.on_shift(utc(2026, 11, 23, 12))
    assert on["specialist_name"] == "C"
    assert on["source"] == {
        "kind": "cover",
        "rotation_id": rota["days"],
        "rotation_name": "days",
        "override_id": cover["id"],
        "covering_for": rota["A"],
    }
    assert cover["reason"] == "dentist"


async def test_partial_cover_splits_the_shift(api: Api, rota: dict[str, Any]) -> None:
    await api.override(
        kind="cover",
        specialist_id=rota["A"],
        substitute_id=rota["C"],
        start=utc(2026, 11, 24, 12),
        end=utc(2026, 11, 24, 16),
    )
    day = await api.schedule(utc(2026, 11, 24, 8), utc(2026, 11, 24, 20), specialist=rota["A"])
    assert _pieces(day) == [
        ("A", utc(2026, 11, 24, 8), utc(2026, 11, 24, 12), "rotation"),
        ("A", utc(2026, 11, 24, 16), utc(2026, 11, 24, 20), "rotation"),
    ]
    (covered,) = await api.schedule(utc(2026, 11, 24), utc(2026, 11, 25), specialist=rota["C"])
    assert span(covered) == (utc(2026, 11, 24, 12), utc(2026, 11, 24, 16))
    assert covered["local_date"] == "2026-11-24"
    assert await api.names_on_shift(utc(2026, 11, 24, 11, 59)) == ["A"]
    assert await api.names_on_shift(utc(2026, 11, 24, 12)) == ["C"]
    assert await api.names_on_shift(utc(2026, 11, 24, 16)) == ["A"]


async def test_swap_exchanges_two_shifts_atomically(
    api: Api, rota: dict[str, Any], db: Database
) -> None:
    day = (utc(2026, 11, 25, 8), utc(2026, 11, 25, 20))
    night = (utc(2026, 11, 26, 20), utc(2026, 11, 27, 8))
    before = await rota_state(db)
    # The half given back is wrong (its window ends before it starts): nothing is written.
    bad = await api.client.post(
        "/v1/overrides",
        json={
            "kind": "swap",
            "specialist_id": rota["A"],
            "substitute_id": rota["B"],
            "start": "2026-11-25T08:00:00Z",
            "end": "2026-11-25T20:00:00Z",
            "swap_start": "2026-11-27T08:00:00Z",
            "swap_end": "2026-11-26T20:00:00Z",
        },
        headers=api.h,
    )
    assert_problem(bad, 422, field="body")
    assert await rota_state(db) == before
    first, second = await api.override(
        kind="swap",
        specialist_id=rota["A"],
        substitute_id=rota["B"],
        start=day[0],
        end=day[1],
        swap_start=night[0],
        swap_end=night[1],
    )
    assert first["swap_group"] == second["swap_group"] is not None
    assert (first["kind"], first["specialist_id"], first["substitute_id"]) == (
        "cover",
        rota["A"],
        rota["B"],
    )
    assert (second["kind"], second["specialist_id"], second["substitute_id"]) == (
        "cover",
        rota["B"],
        rota["A"],
    )
    (on_day,) = await api.on_shift(utc(2026, 11, 25, 12))
    assert (on_day["specialist_name"], on_day["source"]["covering_for"]) == ("B", rota["A"])
    assert on_day["source"]["override_id"] == first["id"]
    (on_night,) = await api.on_shift(utc(2026, 11, 27, 2))
    assert (on_night["specialist_name"], on_night["source"]["covering_for"]) == ("A", rota["B"])
    assert on_night["source"]["rotation_name"] == "nights"
    assert span(on_night) == night
    # Cancelling one half cancels the swap.
    tag = await api.etag(f"/v1/overrides/{second['id']}")
    r = await api.client.delete(f"/v1/overrides/{second['id']}", headers=api.hdr(tag))
    assert r.status_code == 204, r.text
    assert (await api.get("/v1/overrides")).json()["items"] == []
    assert await api.names_on_shift(utc(2026, 11, 25, 12)) == ["A"]
    assert await api.names_on_shift(utc(2026, 11, 27, 2)) == ["B"]


async def test_leave_removes_the_person_and_a_cover_they_would_work(
    api: Api, rota: dict[str, Any]
) -> None:
    await api.override(
        kind="leave", specialist_id=rota["A"], start=utc(2026, 11, 27), end=utc(2026, 11, 28)
    )
    assert await api.names_on_shift(utc(2026, 11, 27, 12)) == []
    assert await api.schedule(utc(2026, 11, 27, 9), utc(2026, 11, 27, 19)) == []
    # A was to cover B's night of the 28th, then fell ill from 18:00 until the 29th 10:00.
    await api.override(
        kind="cover",
        specialist_id=rota["B"],
        substitute_id=rota["A"],
        start=utc(2026, 11, 28, 20),
        end=utc(2026, 11, 29, 8),
    )
    assert await api.names_on_shift(utc(2026, 11, 28, 23)) == ["A"]
    await api.override(
        kind="leave",
        specialist_id=rota["A"],
        start=utc(2026, 11, 28, 18),
        end=utc(2026, 11, 29, 10),
        reason="sick",
    )
    assert await api.names_on_shift(utc(2026, 11, 28, 23)) == []  # not back to B either
    a_shifts = await api.schedule(utc(2026, 11, 28), utc(2026, 11, 30), specialist=rota["A"])
    assert _pieces(a_shifts) == [
        ("A", utc(2026, 11, 28, 8), utc(2026, 11, 28, 18), "rotation"),
        ("A", utc(2026, 11, 29, 10), utc(2026, 11, 29, 20), "rotation"),
    ]
    listed = (await api.get("/v1/overrides", kind="leave", specialist=rota["A"])).json()["items"]
    assert [o["reason"] for o in listed] == [None, "sick"]


async def test_extra_adds_a_one_off_window(api: Api, rota: dict[str, Any]) -> None:
    (extra,) = await api.override(
        kind="extra",
        specialist_id=rota["D"],
        team="t",
        start=utc(2026, 11, 30, 10),
        end=utc(2026, 11, 30, 14),
    )
    on = await api.on_shift(utc(2026, 11, 30, 12))
    assert sorted(s["specialist_name"] for s in on) == ["A", "D"]
    (d_on,) = [s for s in on if s["specialist_name"] == "D"]
    assert d_on["source"] == {
        "kind": "extra",
        "rotation_id": None,
        "rotation_name": None,
        "override_id": extra["id"],
        "covering_for": None,
    }
    assert d_on["team"] == "t"
    assert await api.names_on_shift(utc(2026, 11, 30, 14)) == ["A"]


async def test_cancelling_an_override_under_way_ends_it_now(
    api: Api, rota: dict[str, Any], clock: FixedClock
) -> None:
    (cover,) = await api.override(
        kind="cover",
        specialist_id=rota["A"],
        substitute_id=rota["C"],
        start=utc(2026, 11, 20, 16),
        end=utc(2026, 11, 20, 19),
    )
    clock.set(utc(2026, 11, 20, 17))
    path = f"/v1/overrides/{cover['id']}"
    r = await api.client.delete(path, headers=api.hdr(await api.etag(path)))
    assert r.status_code == 204, r.text
    kept = (await api.get(path)).json()
    assert (kept["start"], kept["end"]) == ("2026-11-20T16:00:00Z", "2026-11-20T17:00:00Z")
    day = await api.schedule(utc(2026, 11, 20, 9), utc(2026, 11, 20, 19))
    assert _pieces([s for s in day if s["source"]["rotation_name"] == "days"]) == [
        ("A", utc(2026, 11, 20, 8), utc(2026, 11, 20, 16), "rotation"),
        ("C", utc(2026, 11, 20, 16), utc(2026, 11, 20, 17), "cover"),
        ("A", utc(2026, 11, 20, 17), utc(2026, 11, 20, 20), "rotation"),
    ]
    assert await api.names_on_shift(utc(2026, 11, 20, 16, 30)) == ["C"]
    assert await api.names_on_shift(utc(2026, 11, 20, 17)) == ["A"]
    (entry, *_) = await api.audit(resource_type="override")
    assert entry["action"] == "end"
    assert instant(entry["before"]["end"]) == utc(2026, 11, 20, 19)
    assert instant(entry["after"]["end"]) == utc(2026, 11, 20, 17)


async def test_cancelling_an_override_not_started_deletes_it(
    api: Api, rota: dict[str, Any]
) -> None:
    (cover,) = await api.override(
        kind="cover",
        specialist_id=rota["A"],
        substitute_id=rota["C"],
        start=utc(2026, 11, 23, 8),
        end=utc(2026, 11, 23, 20),
    )
    assert await api.names_on_shift(utc(2026, 11, 23, 12)) == ["C"]
    path = f"/v1/overrides/{cover['id']}"
    r = await api.client.delete(path, headers=api.hdr(await api.etag(path)))
    assert r.status_code == 204, r.text
    assert_problem(await api.get(path), 404)
    assert await api.names_on_shift(utc(2026, 11, 23, 12)) == ["A"]
    (entry, *_) = await api.audit(resource_type="override")
    assert (entry["action"], entry["after"]) == ("delete", None)


async def test_patching_an_override_moves_its_window(api: Api, rota: dict[str, Any]) -> None:
    (cover,) = await api.override(
        kind="cover",
        specialist_id=rota["A"],
        substitute_id=rota["C"],
        start=utc(2026, 11, 23, 8),
        end=utc(2026, 11, 23, 20),
    )
    path = f"/v1/overrides/{cover['id']}"
    tag = await api.etag(path)
    r = await api.client.patch(
        path, json={"start": "2026-11-23T14:00:00+01:00", "reason": "later"}, headers=api.hdr(tag)
    )
    assert r.status_code == 200, r.text
    assert instant(r.json()["start"]) == utc(2026, 11, 23, 13)
    assert r.headers["etag"] != tag
    assert await api.names_on_shift(utc(2026, 11, 23, 12)) == ["A"]
    assert await api.names_on_shift(utc(2026, 11, 23, 13)) == ["C"]
    # The old ETag no longer works.
    again = await api.client.patch(path, json={"reason": "x"}, headers=api.hdr(tag))
    assert_problem(again, 412)
