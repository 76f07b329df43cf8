"""Safe editing: edits take effect from an instant, the past stays, dry runs write nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.core.clock import FixedClock
from app.core.db import Database
from tests.conftest import NOW, Keys
from tests.rota_api.helpers import Api, assert_problem, instant, rota_state, span, utc, who

DAILY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
PAST = utc(2026, 11, 16)


@pytest.fixture
async def api(client: httpx.AsyncClient, keys: Keys) -> Api:
    """A scheduler's API."""
    return Api(client, await keys.headers("scheduler"))


@pytest.fixture
async def rota(api: Api) -> dict[str, Any]:
    """Team t (UTC): A, B, C take turns every day 08:00-20:00 since 1 November."""
    await api.team("t")
    a, b, c = await api.people("t", "A", "B", "C")
    rot = await api.rotation(
        "t",
        [a, b, c],
        name="days",
        days=DAILY,
        start="08:00",
        end="20:00",
        assignment="turns",
        starts_on="2026-11-01",
        effective_from=utc(2026, 11, 1),
    )
    return {"A": a, "B": b, "C": c, "rot": rot}


def _rules(**changes: Any) -> dict[str, Any]:
    return {"days": DAILY, "start": "08:00", "end": "20:00", "assignment": "turns", **changes}


async def _put(api: Api, rota: dict[str, Any], body: dict[str, Any], **params: str) -> Any:
    path = f"/v1/rotations/{rota['rot']['id']}"
    r = await api.client.put(path, json=body, params=params, headers=api.hdr(await api.etag(path)))
    assert r.status_code == 200, r.text
    return r


async def test_change_effective_now_keeps_the_shift_in_progress(
    api: Api, rota: dict[str, Any]
) -> None:
    (running,) = await api.on_shift(NOW)
    assert running["specialist_name"] == "B"  # occurrence 19 of A, B, C
    past = await api.schedule(PAST, NOW)
    await _put(api, rota, _rules(members=[rota["C"], rota["A"]], start="10:00", end="22:00"))
    (still,) = await api.on_shift(NOW)
    assert still == running
    assert span(still) == (utc(2026, 11, 20, 8), utc(2026, 11, 20, 20))
    assert await api.schedule(PAST, NOW) == past
    # Later shifts follow the new rules; nothing new starts today before or after now.
    later = await api.schedule(NOW, utc(2026, 11, 23))
    assert [(s["local_date"], *span(s)) for s in later] == [
        ("2026-11-20", utc(2026, 11, 20, 8), utc(2026, 11, 20, 20)),
        ("2026-11-21", utc(2026, 11, 21, 10), utc(2026, 11, 21, 22)),
        ("2026-11-22", utc(2026, 11, 22, 10), utc(2026, 11, 22, 22)),
    ]
    # Occurrence 20 and 21 of the new members C, A.
    assert [s["specialist_name"] for s in later[1:]] == ["C", "A"]


async def test_change_from_a_future_instant_leaves_everything_before_it(
    api: Api, rota: dict[str, Any]
) -> None:
    cut = utc(2026, 11, 25)
    before = await api.schedule(PAST, cut)
    after_before = await api.schedule(cut, utc(2026, 11, 28))
    await _put(api, rota, _rules(members=[rota["A"]], effective_from="2026-11-25T00:00:00Z"))
    assert await api.schedule(PAST, cut) == before
    after = await api.schedule(cut, utc(2026, 11, 28))
    assert [s["specialist_name"] for s in after] == ["A", "A", "A"]
    assert after != after_before
    got = (await api.get(f"/v1/rotations/{rota['rot']['id']}")).json()
    # The version in force now is still the first one.
    assert got["current"]["seq"] == 1
    assert [(v["seq"], v["effective_from"], v["effective_until"]) for v in got["versions"]] == [
        (1, "2026-11-01T00:00:00Z", "2026-11-25T00:00:00Z"),
        (2, "2026-11-25T00:00:00Z", None),
    ]


async def test_allow_past_rewrites_history_and_the_audit_log_says_from_when(
    api: Api, rota: dict[str, Any]
) -> None:
    history = await api.schedule(utc(2026, 11, 10), utc(2026, 11, 12))
    assert who(history) == [("2026-11-10", "A"), ("2026-11-11", "B")]
    r = await _put(
        api,
        rota,
        _rules(members=[rota["C"]], effective_from="2026-11-10T00:00:00Z"),
        allow_past="true",
    )
    assert r.json()["current"]["seq"] == 2
    rewritten = await api.schedule(utc(2026, 11, 10), utc(2026, 11, 12))
    assert who(rewritten) == [("2026-11-10", "C"), ("2026-11-11", "C")]
    assert who(await api.schedule(utc(2026, 11, 8), utc(2026, 11, 10))) == [
        ("2026-11-08", "B"),  # before the change: the old turns
        ("2026-11-09", "C"),
    ]
    (entry, *_) = await api.audit(resource_type="rotation")
    assert entry["action"] == "update"
    assert entry["effective_from"] == "2026-11-10T00:00:00Z"
    assert entry["resource_id"] == str(rota["rot"]["id"])
    assert entry["before"]["current"]["members"] == [rota["A"], rota["B"], rota["C"]]
    assert entry["after"]["versions"][-1]["members"] == [rota["C"]]
    assert entry["actor"] == "scheduler-key"


async def test_versions_are_listed_in_order(api: Api, rota: dict[str, Any]) -> None:
    await _put(api, rota, _rules(members=[rota["A"], rota["B"]]))
    await _put(api, rota, _rules(members=[rota["B"]], effective_from="2026-12-01T00:00:00Z"))
    r = await api.get(f"/v1/rotations/{rota['rot']['id']}")
    got = r.json()
    assert r.headers["etag"] != rota["rot"]["etag"]
    assert [(v["seq"], v["members"]) for v in got["versions"]] == [
        (1, [rota["A"], rota["B"], rota["C"]]),
        (2, [rota["A"], rota["B"]]),
        (3, [rota["B"]]),
    ]
    assert [(v["effective_from"], v["effective_until"]) for v in got["versions"]] == [
        ("2026-11-01T00:00:00Z", "2026-11-20T15:00:00Z"),
        ("2026-11-20T15:00:00Z", "2026-12-01T00:00:00Z"),
        ("2026-12-01T00:00:00Z", None),
    ]
    assert got["current"]["seq"] == 2
    listed = (await api.get("/v1/rotations", team="t")).json()["items"]
    assert [r["id"] for r in listed] == [rota["rot"]["id"]]
    assert len(listed[0]["versions"]) == 3


async def test_a_stale_etag_after_an_edit_is_refused(api: Api, rota: dict[str, Any]) -> None:
    path = f"/v1/rotations/{rota['rot']['id']}"
    tag = await api.etag(path)
    body = _rules(members=[rota["A"]])
    first = await api.client.put(path, json=body, headers=api.hdr(tag))
    assert first.status_code == 200, first.text
    assert first.headers["etag"] != tag
    second = await api.client.put(path, json=body, headers=api.hdr(tag))
    assert_problem(second, 412)


async def test_ending_a_rotation_keeps_its_past_shifts(api: Api, rota: dict[str, Any]) -> None:
    past = await api.schedule(PAST, NOW)
    path = f"/v1/rotations/{rota['rot']['id']}"
    r = await api.client.delete(path, headers=api.hdr(await api.etag(path)))
    assert r.status_code == 200, r.text
    assert r.json()["versions"][-1]["effective_until"] == "2026-11-20T15:00:00Z"
    assert await api.schedule(PAST, NOW) == past
    # The shift under way is worked to its end; nothing starts after now.
    assert [s["local_date"] for s in await api.schedule(NOW, NOW + timedelta(days=14))] == [
        "2026-11-20"
    ]
    assert await api.on_shift(utc(2026, 11, 21, 12)) == []
    (entry, *_) = await api.audit(resource_type="rotation")
    assert (entry["action"], entry["effective_from"]) == ("end", "2026-11-20T15:00:00Z")
    # Ending from a future instant keeps the shifts until then.
    await api.rotation("t", [rota["A"]], name="again", days=DAILY, start="08:00", end="20:00")
    again = (await api.get("/v1/rotations", team="t")).json()["items"][-1]
    r = await api.client.delete(
        f"/v1/rotations/{again['id']}",
        params={"effective_from": "2026-11-24T00:00:00+00:00"},
        headers=api.hdr(await api.etag(f"/v1/rotations/{again['id']}")),
    )
    assert r.status_code == 200, r.text
    assert [s["local_date"] for s in await api.schedule(NOW, NOW + timedelta(days=14))] == [
        "2026-11-20",
        "2026-11-21",
        "2026-11-22",
        "2026-11-23",
    ]


# Dry runs -------------------------------------------------------------------------------


@dataclass
class Write:
    """One kind of rota write, sent first as a dry run and then for real."""

    name: str
    method: str
    path: str
    body: dict[str, Any] | None = None
    params: dict[str, str] = field(default_factory=dict)
    etag_path: str | None = None  # where to read If-Match from
    changes_schedule: bool = True


# Without keys and day-off ids: a dry run cannot know the id a new row will get (PostgreSQL
# does not give back sequence numbers of a rolled-back transaction).
def _shift_ids(items: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(s["specialist_id"], s["team"], s["start"], s["end"]) for s in items}


def _day_ids(items: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(d["specialist_id"], d["day"], d["source"]) for d in items}


async def _picture(api: Api) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    end = NOW + timedelta(weeks=4)
    return _shift_ids(await api.schedule(NOW, end)), _day_ids(await api.days_off(NOW, end))


async def _dry_then_real(api: Api, db: Database, write: Write, ids: dict[str, Any]) -> Any:
    path = write.path.format(**ids)
    body = _fill(write.body, ids)
    headers = api.hdr(await api.etag(write.etag_path.format(**ids)) if write.etag_path else None)
    state = await rota_state(db)
    shifts, days = await _picture(api)
    dry = await api.client.request(
        write.method, path, json=body, params={**write.params, "dry_run": "true"}, headers=headers
    )
    assert dry.status_code == 200, (write.name, dry.text)
    preview = dry.json()
    assert preview["dry_run"] is True
    assert instant(preview["window_start"]) == NOW
    assert instant(preview["window_end"]) == NOW + timedelta(weeks=4)
    assert await rota_state(db) == state, write.name
    real = await api.client.request(
        write.method, path, json=body, params=write.params, headers=headers
    )
    assert real.status_code in (200, 201, 204), (write.name, real.text)
    new_shifts, new_days = await _picture(api)
    assert _shift_ids(preview["added"]) == new_shifts - shifts, write.name
    assert _shift_ids(preview["removed"]) == shifts - new_shifts, write.name
    assert _day_ids(preview["days_off_added"]) == new_days - days, write.name
    assert _day_ids(preview["days_off_removed"]) == days - new_days, write.name
    keys = ("added", "removed", "days_off_added", "days_off_removed")
    assert any(preview[k] for k in keys) == write.changes_schedule, write.name
    return real


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        return ids[value[1:]]
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _team(**changes: Any) -> dict[str, Any]:
    return {"slug": "t", "name": "Team t", "time_zone": "UTC", "languages": ["en"], **changes}


def _person(name: str, **changes: Any) -> dict[str, Any]:
    return {
        "name": name,
        "contact": "client:" + name.lower(),
        "time_zone": "UTC",
        "languages": ["en"],
        "teams": ["t"],
        **changes,
    }


EVENING = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "20:00", "end": "23:00"}
WRITES = [
    Write("team create", "POST", "/v1/teams", _team(slug="u"), changes_schedule=False),
    Write("specialist create", "POST", "/v1/specialists", _person("D"), changes_schedule=False),
    Write(
        "rotation create",
        "POST",
        "/v1/rotations",
        {"team": "t", "name": "evening", "members": ["$D"], **EVENING},
    ),
    Write(
        "rotation update",
        "PUT",
        "/v1/rotations/{evening}",
        {"members": ["$D", "$C"], **EVENING},
        etag_path="/v1/rotations/{evening}",
    ),
    Write(
        "team update",
        "PUT",
        "/v1/teams/t",
        _team(holidays={"country": "US"}),
        etag_path="/v1/teams/t",
    ),
    Write(
        "specialist update",
        "PUT",
        "/v1/specialists/{D}",
        _person("D", active=False),
        etag_path="/v1/specialists/{D}",
    ),
    Write(
        "override create",
        "POST",
        "/v1/overrides",
        {
            "kind": "cover",
            "specialist_id": "$A",
            "substitute_id": "$B",
            "start": "2026-11-22T00:00:00Z",
            "end": "2026-11-23T00:00:00Z",
        },
    ),
    Write(
        "override patch",
        "PATCH",
        "/v1/overrides/{cover}",
        {"start": "2026-11-22T12:00:00Z"},
        etag_path="/v1/overrides/{cover}",
    ),
    Write("override delete", "DELETE", "/v1/overrides/{cover}", etag_path="/v1/overrides/{cover}"),
    Write("day off create", "POST", "/v1/days-off", {"specialist_id": "$C", "day": "2026-11-24"}),
    Write(
        "day off move",
        "PATCH",
        "/v1/days-off/{manual}",
        {"day": "2026-11-27"},
        etag_path="/v1/days-off/{manual}/etag",
    ),
    Write(
        "day off cancel", "DELETE", "/v1/days-off/{manual}", etag_path="/v1/days-off/{manual}/etag"
    ),
    Write(
        "rotation end",
        "DELETE",
        "/v1/rotations/{evening}",
        etag_path="/v1/rotations/{evening}",
        params={"effective_from": "2026-12-01T00:00:00Z"},
    ),
]


async def test_every_write_can_be_a_dry_run(api: Api, rota: dict[str, Any], db: Database) -> None:
    """Each write: a dry run answers the change to the next 4 weeks and changes nothing;
    the same write for real then changes the schedule exactly as previewed."""
    ids: dict[str, Any] = {**rota}
    for write in WRITES:
        real = await _dry_then_real(api, db, write, ids)
        if write.name == "specialist create":
            ids["D"] = real.json()["id"]
        elif write.name == "rotation create":
            ids["evening"] = real.json()["id"]
        elif write.name == "override create":
            ids["cover"] = real.json()[0]["id"]
        elif write.name == "day off create":
            ids["manual"] = real.json()["id"]
    assert await api.schedule(utc(2026, 12, 1), utc(2026, 12, 8), team="t") != []


async def test_dry_run_answers_the_would_be_resource(
    api: Api, rota: dict[str, Any], db: Database, clock: FixedClock
) -> None:
    before = await rota_state(db)
    r = await api.client.post(
        "/v1/rotations",
        params={"dry_run": "true"},
        json={"team": "t", "name": "nights", "members": [rota["A"]], **EVENING},
        headers=api.h,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["resource"]["name"] == "nights"
    assert {s["specialist_name"] for s in body["added"]} == {"A"}
    assert all(instant(s["start"]) >= clock.now() for s in body["added"])
    assert body["removed"] == []
    assert await rota_state(db) == before


async def test_leaving_a_team_needs_the_rotations_to_let_go_first(
    api: Api, rota: dict[str, Any]
) -> None:
    """A rotation version that ends in the future still lists its members until then."""
    path = f"/v1/rotations/{rota['rot']['id']}"
    r = await api.client.delete(
        path,
        params={"effective_from": "2026-12-15T00:00:00Z"},
        headers=api.hdr(await api.etag(path)),
    )
    assert r.status_code == 200, r.text
    a = f"/v1/specialists/{rota['A']}"
    body = {k: (await api.get(a)).json()[k] for k in ("name", "contact", "time_zone", "languages")}
    leave = await api.client.put(a, json={**body, "teams": []}, headers=api.hdr(await api.etag(a)))
    assert_problem(leave, 409)
    assert (await api.get(a)).json()["teams"] == ["t"]
    # Once the rotation has ended, A may leave; its history stays.
    r = await api.client.delete(
        path,
        params={"effective_from": "2026-11-20T15:00:00Z"},
        headers=api.hdr(await api.etag(path)),
    )
    assert r.status_code == 200, r.text
    leave = await api.client.put(a, json={**body, "teams": []}, headers=api.hdr(await api.etag(a)))
    assert leave.status_code == 200, leave.text
    assert who(await api.schedule(utc(2026, 11, 19), utc(2026, 11, 20))) == [("2026-11-19", "A")]
