"""The planner's API: propose, read, diff, apply (If-Match, dry run, audit), errors."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.db import Database
from app.rota import materialise
from tests.rota_api.helpers import Api, assert_problem, audit_count, instant, rota_state
from tests.rota_api.test_concurrency import stored_matches_calculation
from tests.rota_api.test_slow_work import watch

MONDAY = date(2026, 12, 7)  # the test clock stands at 2026-11-20
COVERAGE = [
    {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00", "min_staff": 2},
    {"days": ["sat", "sun"], "start": "10:00", "end": "16:00", "min_staff": 1},
    {
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": "09:00",
        "end": "17:00",
        "min_staff": 1,
        "language": "ja",
    },
]


@pytest.fixture
async def api(client: httpx.AsyncClient, keys: Any) -> Api:
    return Api(client, await keys.headers("scheduler"))


async def _team(api: Api, size: int = 5, *, first_also: str | None = None) -> list[int]:
    await api.team("tokyo", "Asia/Tokyo", coverage=COVERAGE, languages=["en", "ja"])
    if first_also:
        await api.team(first_also, "Asia/Tokyo", coverage=[])
    people = []
    for i in range(size):
        langs = ["en", "ja"] if i % 2 == 0 else ["en"]
        teams = ["tokyo", first_also] if first_also and i == 0 else ["tokyo"]
        people.append(await api.specialist(f"P{i}", teams, tz="Asia/Tokyo", languages=langs))
    # The current rota: everyone on weekdays, nobody at weekends.
    await api.rotation("tokyo", people, name="weekdays")
    return people


async def _propose(api: Api, **body: Any) -> httpx.Response:
    payload = {"start": MONDAY.isoformat(), "weeks": 2, **body}
    return await api.client.post("/v1/teams/tokyo/plans", json=payload, headers=api.h)


def _weekend_days(shifts: list[dict[str, Any]]) -> dict[int, set[str]]:
    found: defaultdict[int, set[str]] = defaultdict(set)
    for s in shifts:
        if date.fromisoformat(s["local_date"]).weekday() >= 5:
            found[s["specialist_id"]].add(s["local_date"])
    return found


async def test_a_proposal_meets_coverage_and_the_weekend_rule(api: Api) -> None:
    people = await _team(api)
    r = await _propose(api)
    assert r.status_code == 201, r.text
    plan = r.json()
    assert r.headers["location"] == f"/v1/plans/{plan['id']}"
    assert plan["solver"]["status"] in ("optimal", "feasible")
    assert plan["gaps"] == [] and plan["relaxations"] == []
    shifts = plan["proposal"]["shifts"]
    weekends = _weekend_days(shifts)
    for person in people:  # a weekend day in each of the two weeks
        weeks = {
            date.fromisoformat(d) - timedelta(days=date.fromisoformat(d).weekday())
            for d in weekends[person]
        }
        assert weeks == {MONDAY, MONDAY + timedelta(weeks=1)}
    # Each weekend day of the first week has its weekday off in lieu.
    lieu = {(d["specialist_id"], d["day"]) for d in plan["lieu_days"]}
    worked = {(s["specialist_id"], s["local_date"]) for s in shifts}
    assert lieu and not lieu & worked
    # Against the current rota (weekdays only): weekend shifts added, weekdays removed.
    changes = {c["specialist_id"]: c for c in plan["changes"]}
    assert set(changes) == set(people)
    assert all(c["added"] and c["removed"] for c in changes.values())
    before = {f["specialist_id"]: f for f in plan["fairness_before"]}
    after = {f["specialist_id"]: f for f in plan["fairness_after"]}
    assert all(before[p]["weekend_days"] == 0 for p in people)
    assert all(after[p]["weekend_days"] >= 2 for p in people)
    again = await api.get(f"/v1/plans/{plan['id']}")
    assert again.status_code == 200 and again.json() == plan


async def test_apply_writes_rotations_the_rota_understands(api: Api, db: Database) -> None:
    await _team(api)
    plan = (await _propose(api)).json()
    path = f"/v1/plans/{plan['id']}/apply"
    assert_problem(await api.client.post(path, headers=api.h), 428)
    assert_problem(await api.client.post(path, headers=api.hdr('W/"team-tokyo-v99"')), 412)
    tag = await api.etag("/v1/teams/tokyo")

    state, audits = await rota_state(db), await audit_count(db)
    dry = await api.client.post(path, params={"dry_run": "true"}, headers=api.hdr(tag))
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True and dry.json()["rotations_created"]
    assert await rota_state(db) == state and await audit_count(db) == audits

    done = await api.client.post(path, headers=api.hdr(tag))
    assert done.status_code == 200, done.text
    assert done.headers["etag"] != tag
    assert await audit_count(db) == audits + 1
    # The rota now answers with the proposal: same shifts, no gaps.
    start, end = plan["proposal"]["start"], plan["proposal"]["end"]
    schedule = (await api.get("/v1/rota/schedule", start=start, end=end, team="tokyo")).json()

    def spans(shifts: list[dict[str, Any]]) -> set[tuple[int, Any, Any]]:
        return {(s["specialist_id"], instant(s["start"]), instant(s["end"])) for s in shifts}

    assert spans(schedule["shifts"]) == spans(plan["proposal"]["shifts"])
    gaps = await api.get("/v1/rota/gaps", start=start, end=end, team="tokyo")
    assert gaps.json() == []
    offs = {(d["specialist_id"], d["day"]) for d in schedule["days_off"]}
    assert {(d["specialist_id"], d["day"]) for d in plan["lieu_days"]} <= offs
    # Applied once only; the stale ETag no longer matches.
    assert_problem(await api.client.post(path, headers=api.hdr(tag)), 412)
    fresh = await api.etag("/v1/teams/tokyo")
    assert_problem(await api.client.post(path, headers=api.hdr(fresh)), 409)
    assert (await api.get(f"/v1/plans/{plan['id']}")).json()["applied_at"] is not None


async def test_infeasible_rules_are_named_with_the_smallest_relaxation(api: Api) -> None:
    await _team(api, size=2)
    r = await _propose(api, weeks=1)
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["solver"]["status"] == "infeasible"
    assert plan["relaxations"]
    assert any("JST" in x["message"] for x in plan["relaxations"] if x["rule"] == "coverage")
    tag = await api.etag("/v1/teams/tokyo")
    applied = await api.client.post(f"/v1/plans/{plan['id']}/apply", headers=api.hdr(tag))
    assert_problem(applied, 409)


async def test_bad_requests_are_problem_details(api: Api, keys: Any) -> None:
    people = await _team(api)
    assert_problem(await _propose(api, start="2026-12-08"), 422, field="body.start")
    assert_problem(await _propose(api, weeks=13), 422, field="body.weeks")
    assert_problem(await _propose(api, settings={"max_hours_per_week": 0}), 422)
    assert_problem(await _propose(api, colour="red"), 422)
    outsider = await api.specialist("Other", [], tz="UTC")
    body = {"members": [{"specialist_id": outsider}]}
    assert_problem(await _propose(api, **body), 422, field="body.members[0].specialist_id")
    twice = {"members": [{"specialist_id": people[0]}, {"specialist_id": people[0]}]}
    assert_problem(await _propose(api, **twice), 422)
    missing = await api.client.post(
        "/v1/teams/nowhere/plans", json={"start": MONDAY.isoformat()}, headers=api.h
    )
    assert_problem(missing, 404)
    viewer = await keys.headers("viewer")
    denied = await api.client.post(
        "/v1/teams/tokyo/plans", json={"start": MONDAY.isoformat()}, headers=viewer
    )
    assert_problem(denied, 403)
    anonymous = await api.client.post("/v1/teams/tokyo/plans", json={"start": MONDAY.isoformat()})
    assert_problem(anonymous, 401)
    assert_problem(await api.get("/v1/plans/999"), 404)


async def test_wishes_and_fixed_days_off_are_honoured(api: Api) -> None:
    people = await _team(api)
    wishes = [
        {"specialist_id": people[0], "unavailable_days": ["wed"], "prefers_weekend_day": "sun"},
        {"specialist_id": people[1], "prefers_off": ["fri"]},
    ]
    # Wishes are soft: weighted above the even spread of Saturdays, they win here.
    plan = (await _propose(api, members=wishes, weights={"preference": 100})).json()
    assert plan["solver"]["status"] in ("optimal", "feasible")
    assert plan["request"]["members"][0]["unavailable_days"] == ["wed"]
    mine = [s for s in plan["proposal"]["shifts"] if s["specialist_id"] == people[0]]
    assert all(date.fromisoformat(s["local_date"]).weekday() != 2 for s in mine)
    assert all(date.fromisoformat(s["local_date"]).weekday() != 5 for s in mine)


async def test_leave_and_other_teams_shifts_are_respected(api: Api) -> None:
    # People[0] also works Monday and Wednesday evenings for Osaka (a day off in lieu would
    # take those too, so it falls on another day); people[1] is on leave for three days.
    people = await _team(api, first_also="osaka")
    await api.rotation(
        "osaka", [people[0]], name="evenings", days=["mon", "wed"], start="20:00", end="23:00"
    )
    leave_start, leave_end = "2026-12-08T00:00:00+09:00", "2026-12-11T00:00:00+09:00"
    await api.override(kind="leave", specialist_id=people[1], start=leave_start, end=leave_end)
    plan = (await _propose(api)).json()
    assert plan["solver"]["status"] in ("optimal", "feasible"), plan["relaxations"]
    shifts = plan["proposal"]["shifts"]
    on_leave = [
        s
        for s in shifts
        if s["specialist_id"] == people[1]
        and instant(s["start"]) < instant(leave_end)
        and instant(s["end"]) > instant(leave_start)
    ]
    assert on_leave == []
    # 11 hours' rest after an Osaka evening: no Tokyo 09:00 shift the next morning.
    evenings = {
        instant(s["end"])
        for s in (
            await api.get(
                "/v1/rota/schedule",
                start=plan["proposal"]["start"],
                end=plan["proposal"]["end"],
                team="osaka",
            )
        ).json()["shifts"]
    }
    assert evenings
    for s in shifts:
        if s["specialist_id"] == people[0]:
            start = instant(s["start"])
            assert all(start - end >= timedelta(hours=11) or start < end for end in evenings)


async def test_apply_refreshes_stored_shifts_with_no_connection_held(
    api: Api, app: FastAPI, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Applying a plan commits, then recalculates the team's shifts holding nothing."""
    await _team(api)
    plan = (await _propose(api)).json()
    tag = await api.etag("/v1/teams/tokyo")
    spy = watch(app, monkeypatch, materialise, "final_schedule")

    done = await api.client.post(f"/v1/plans/{plan['id']}/apply", headers=api.hdr(tag))

    assert done.status_code == 200, done.text
    assert spy.held, "applying refreshed no stored shifts"
    assert spy.held == [0] * len(spy.held)
    assert spy.teams == [{"tokyo"}] * len(spy.teams)
    await stored_matches_calculation(db)
