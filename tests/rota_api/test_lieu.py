"""Days off in lieu through the API: earned on weekends, placed, moved, cancelled, ledger."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from app.core.clock import FixedClock
from app.core.db import Database
from tests.conftest import Keys
from tests.rota_api.helpers import WEEKDAYS, Api, assert_problem, rota_state, utc

COVERAGE = [{"days": WEEKDAYS, "start": "09:00", "end": "17:00", "min_staff": 1}]


@pytest.fixture
async def api(client: httpx.AsyncClient, keys: Keys) -> Api:
    """A scheduler's API."""
    return Api(client, await keys.headers("scheduler"))


@pytest.fixture
async def rota(api: Api) -> dict[str, Any]:
    """Team t (UTC): A, B, C work weekdays 09-17 and take turns at weekends (days off: Wed).

    Weekend turns since Sat 31 Oct: 31 A, 1 B, 7 C, 8 A, 14 B, 15 C, 21 A, 22 B, 28 C, 29 A.
    """
    await api.team("t", coverage=COVERAGE)
    a, b, c = await api.people("t", "A", "B", "C")
    await api.rotation("t", [a, b, c], name="weekdays", effective_from=utc(2026, 10, 26))
    weekend = await api.rotation(
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
    return {"A": a, "B": b, "C": c, "weekend": weekend["id"]}


def _key(rota: dict[str, Any], day: str, person: str) -> str:
    return f"lieu:{rota['weekend']}:{day}:{rota[person]}"


async def _names_on(api: Api, day: date, team: str = "t") -> list[str]:
    start = utc(day.year, day.month, day.day)
    shifts = await api.schedule(start, utc(day.year, day.month, day.day, 23, 59), team=team)
    return sorted(s["specialist_name"] for s in shifts if s["local_date"] == day.isoformat())


async def test_saturday_earns_the_following_wednesday_off(api: Api, rota: dict[str, Any]) -> None:
    offs = await api.days_off(utc(2026, 11, 23), utc(2026, 11, 28))
    assert [(d["id"], d["day"], d["source"], d["moved"]) for d in offs] == [
        (_key(rota, "2026-11-21", "A"), "2026-11-25", "lieu", False),
        (_key(rota, "2026-11-22", "B"), "2026-11-25", "lieu", False),
    ]
    assert await _names_on(api, date(2026, 11, 25)) == ["C"]
    assert await _names_on(api, date(2026, 11, 24)) == ["A", "B", "C"]
    assert await api.names_on_shift(utc(2026, 11, 25, 12)) == ["C"]
    sched = (
        await api.get("/v1/rota/schedule", start="2026-11-25T00:00:00Z", end="2026-11-26T00:00:00Z")
    ).json()
    assert {d["specialist_id"] for d in sched["days_off"]} == {rota["A"], rota["B"]}
    # Past weeks too: Wednesday 18 November was B's and C's.
    assert await _names_on(api, date(2026, 11, 18)) == ["A"]


async def test_moving_a_day_off(api: Api, rota: dict[str, Any], db: Database) -> None:
    day_off = _key(rota, "2026-11-21", "A")
    r = await api.get(f"/v1/days-off/{day_off}/etag")
    assert r.status_code == 200, r.text
    tag = r.json()["etag"]
    assert r.headers["etag"] == tag
    # A dry run writes nothing but shows the change.
    before = await rota_state(db)
    dry = await api.client.patch(
        f"/v1/days-off/{day_off}",
        params={"dry_run": "true"},
        json={"day": "2026-11-26"},
        headers=api.hdr(tag),
    )
    assert dry.status_code == 200, dry.text
    assert [(d["day"], d["moved"]) for d in dry.json()["days_off_added"]] == [("2026-11-26", True)]
    assert [d["day"] for d in dry.json()["days_off_removed"]] == ["2026-11-25"]
    assert await rota_state(db) == before
    moved = await api.client.patch(
        f"/v1/days-off/{day_off}", json={"day": "2026-11-26"}, headers=api.hdr(tag)
    )
    assert moved.status_code == 200, moved.text
    assert moved.headers["etag"] != tag
    offs = await api.days_off(utc(2026, 11, 23), utc(2026, 11, 28), specialist=rota["A"])
    assert [(d["id"], d["day"], d["moved"]) for d in offs] == [(day_off, "2026-11-26", True)]
    assert await _names_on(api, date(2026, 11, 25)) == ["A", "C"]
    assert await _names_on(api, date(2026, 11, 26)) == ["B", "C"]
    assert await api.names_on_shift(utc(2026, 11, 26, 12)) == ["B", "C"]
    # The ETag read before the move is stale now.
    again = await api.client.patch(
        f"/v1/days-off/{day_off}", json={"day": "2026-11-27"}, headers=api.hdr(tag)
    )
    assert_problem(again, 412)
    (entry, *_) = await api.audit(resource_type="day-off")
    assert (entry["action"], entry["resource_id"]) == ("move", day_off)


async def test_cancelling_a_day_off(api: Api, rota: dict[str, Any]) -> None:
    day_off = _key(rota, "2026-11-21", "A")
    tag = (await api.get(f"/v1/days-off/{day_off}/etag")).json()["etag"]
    r = await api.client.delete(f"/v1/days-off/{day_off}", headers=api.hdr(tag))
    assert r.status_code == 204, r.text
    offs = await api.days_off(utc(2026, 11, 23), utc(2026, 11, 28))
    assert [d["specialist_id"] for d in offs] == [rota["B"]]
    assert await _names_on(api, date(2026, 11, 25)) == ["A", "C"]
    assert await api.names_on_shift(utc(2026, 11, 25, 12)) == ["A", "C"]


async def test_a_day_off_already_taken_needs_allow_past_to_change(
    api: Api, rota: dict[str, Any], db: Database
) -> None:
    """B's Wednesday 18 November is history: cancelling or moving it rewrites the past."""
    day_off = _key(rota, "2026-11-14", "B")
    path = f"/v1/days-off/{day_off}"
    tag = (await api.get(path + "/etag")).json()["etag"]
    before = await rota_state(db)
    assert_problem(await api.client.delete(path, headers=api.hdr(tag)), 422)
    r = await api.client.patch(path, json={"day": "2026-11-27"}, headers=api.hdr(tag))
    assert_problem(r, 422)
    assert await rota_state(db) == before
    r = await api.client.delete(path, params={"allow_past": "true"}, headers=api.hdr(tag))
    assert r.status_code == 204, r.text
    assert await _names_on(api, date(2026, 11, 18)) == ["A", "B"]


async def test_ledger(api: Api, rota: dict[str, Any], clock: FixedClock, keys: Keys) -> None:
    # A cancels the day off for Saturday 21st; it is Monday 23rd noon now.
    day_off = _key(rota, "2026-11-21", "A")
    tag = (await api.get(f"/v1/days-off/{day_off}/etag")).json()["etag"]
    assert (await api.client.delete(f"/v1/days-off/{day_off}", headers=api.hdr(tag))).is_success
    clock.set(utc(2026, 11, 23, 12))
    r = await api.get("/v1/rota/lieu-ledger", start="2026-10-26T00:00:00Z")
    assert r.status_code == 200, r.text
    rows = {row["specialist_name"]: row for row in r.json()}
    got = {
        name: (row["earned"], row["taken"], row["cancelled"], row["outstanding"])
        for name, row in rows.items()
    }
    # Earned: A 31 Oct, 8 Nov, 21 Nov; B 1, 14, 22 Nov; C 7, 15 Nov.
    # Taken: Wednesdays 4 Nov (A, B), 11 Nov (C, A), 18 Nov (B, C).
    assert got == {"A": (3, 2, 1, 1), "B": (3, 2, 0, 1), "C": (2, 2, 0, 0)}
    # Three people, two weekend days: each week someone has no weekend day.
    assert rows["A"]["weeks_without_weekend"] == ["2026-11-09"]
    assert rows["B"]["weeks_without_weekend"] == ["2026-11-02"]
    assert rows["C"]["weeks_without_weekend"] == ["2026-10-26", "2026-11-16"]
    # A specialist's own key sees only its own row.
    own = await api.client.get(
        "/v1/rota/lieu-ledger",
        params={"start": "2026-10-26T00:00:00Z"},
        headers=await keys.headers("specialist", specialist_id=rota["C"]),
    )
    assert [row["specialist_name"] for row in own.json()] == ["C"]


async def test_most_staffed_rule_picks_the_day_with_most_surplus(api: Api) -> None:
    await api.team("m", coverage=COVERAGE)
    a, b, c, d = await api.people("m", "A", "B", "C", "D")
    since = utc(2026, 11, 2)
    await api.rotation("m", [a, b, c], name="weekdays", effective_from=since)
    await api.rotation("m", [d], name="thursdays", days=["thu"], effective_from=since)
    await api.rotation(
        "m",
        [a, b],
        name="weekend",
        days=["sat", "sun"],
        assignment="turns",
        earns_lieu=True,
        lieu_rule="most_staffed",
        starts_on="2026-11-21",
        effective_from=since,
    )
    offs = await api.days_off(utc(2026, 11, 23), utc(2026, 11, 28))
    # Thursday has 4 staff for a minimum of 1, the other weekdays 3: A (Saturday, placed
    # first) gets Thursday; then every weekday has a surplus of 2 and B gets the earliest.
    assert [(d["specialist_id"], d["day"]) for d in offs] == [(b, "2026-11-23"), (a, "2026-11-26")]
    assert await _names_on(api, date(2026, 11, 26), team="m") == ["B", "C", "D"]
    assert await _names_on(api, date(2026, 11, 23), team="m") == ["A", "C"]


async def test_a_sixth_earning_in_one_week_is_named_unplaced_in_the_ledger(api: Api) -> None:
    await api.team("six")
    (sid,) = await api.people("six", "Six")
    six = await api.rotation(
        "six",
        [sid],
        name="six-days",
        days=[*WEEKDAYS, "sat"],
        earns_lieu=True,
        effective_from=utc(2026, 10, 5),
    )
    # Five complete weeks of six earnings each; their days land in the following weeks.
    r = await api.get(
        "/v1/rota/lieu-ledger", start="2026-10-05T00:00:00Z", end="2026-11-09T00:00:00Z"
    )
    assert r.status_code == 200, r.text
    (row,) = r.json()
    assert row["earned"] == 30
    # Taken in the range: five days in each of the weeks from 12 Oct to 2 Nov (the last
    # week's earnings land in the week of 9 Nov, after it).
    assert row["taken"] == 20
    unplaced = row["unplaced"]
    # Each week's sixth earning (the Saturday's) found no free weekday: named, with why.
    saturdays = ["2026-10-10", "2026-10-17", "2026-10-24", "2026-10-31", "2026-11-07"]
    assert [u["day_off_id"] for u in unplaced] == [
        f"lieu:{six['id']}:{day}:{sid}" for day in saturdays
    ]
    assert all("no free weekday" in u["reason"] for u in unplaced)
    # Every other earning has its day: placed, or named unplaced; none silently lost.
    offs = await api.days_off(utc(2026, 10, 12), utc(2026, 11, 14), specialist=sid)
    placed = {d["id"] for d in offs if d["source"] == "lieu"}
    assert len(placed) == 25
    assert not placed & {u["day_off_id"] for u in unplaced}
