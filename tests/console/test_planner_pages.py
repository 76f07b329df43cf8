"""The planner's pages over HTTP: propose, compare, preview, apply, stale, roles, bad input."""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from app.core.clock import FixedClock
from app.core.db import Database
from tests.conftest import Keys
from tests.console.helpers import add_user, csrf_of, sign_in
from tests.rota_api.helpers import Api, audit_count, rota_state

MONDAY = date(2026, 12, 7)  # the test clock stands at Friday 2026-11-20
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
COVERAGE = [
    {"days": WEEKDAYS, "start": "09:00", "end": "17:00", "min_staff": 2},
    {"days": ["sat", "sun"], "start": "10:00", "end": "16:00", "min_staff": 1},
]


@pytest.fixture
async def api(client: httpx.AsyncClient, keys: Keys) -> Api:
    """A scheduler's API key, to arrange the team the way any program would."""
    return Api(client, await keys.headers("scheduler"))


@pytest.fixture
async def scheduler(
    browser: httpx.AsyncClient, db: Database, clock: FixedClock
) -> httpx.AsyncClient:
    """A browser signed in as a scheduler."""
    await sign_in(browser, await add_user(db, clock, "scheduler"))
    return browser


async def _team(api: Api, size: int = 4) -> list[int]:
    await api.team("tokyo", "Asia/Tokyo", coverage=COVERAGE)
    people = await api.people("tokyo", *(f"P{i}" for i in range(size)), tz="Asia/Tokyo")
    await api.rotation("tokyo", people, name="weekdays")  # weekdays only: weekends are gaps
    return people


def _form(page: str, **values: Any) -> dict[str, Any]:
    return {"csrf_token": csrf_of(page), **values}


def _fields(page: str) -> dict[str, str]:
    """The proposal form's prefilled single values."""
    found = dict(re.findall(r'name="([a-z_]+)" type="[a-z]+" value="([^"]*)"', page))
    for name in ("weeks", "weekend_days_per_week"):
        select = re.search(rf'name="{name}">(.*?)</select>', page, re.S)
        assert select
        chosen = re.search(r'value="(\d+)" selected', select.group(1))
        assert chosen, name
        found[name] = chosen.group(1)
    return found


async def _propose(client: httpx.AsyncClient, **changes: Any) -> httpx.Response:
    page = await client.get("/planner/tokyo")
    assert page.status_code == 200, page.text
    data = _fields(page.text) | {"start": MONDAY.isoformat(), "weeks": "1"} | changes
    return await client.post("/planner/tokyo", data=_form(page.text, **data))


def _etag(page: str) -> str:
    found = re.search(r'name="etag" value="([^"]+)"', page)
    assert found, "no ETag in the form"
    return html.unescape(found.group(1))


async def test_a_scheduler_proposes_compares_previews_and_applies(
    api: Api, scheduler: httpx.AsyncClient, db: Database
) -> None:
    await _team(api)
    listing = await scheduler.get("/planner")
    assert listing.status_code == 200 and 'href="/planner/tokyo"' in listing.text
    calendar = await scheduler.get("/rota/tokyo")
    assert 'href="/planner/tokyo">Plan a rota' in calendar.text

    r = await _propose(scheduler, time_limit_seconds="10")
    assert r.status_code == 303, r.text
    where = r.headers["location"]
    assert re.fullmatch(r"/planner/plans/\d+", where)
    page = (await scheduler.get(where)).text
    assert "Optimal." in page or "Feasible." in page
    # The current rota has the weekend as gaps; the plan none; both said per day.
    assert "now: gap 10:00–16:00: 1 missing" in page
    assert "plan: gap" not in page
    assert "now 2 → plan 0" in page  # coverage gaps over the week
    # People's weekend days appear as added, their days off in lieu as badges, a weekday
    # shift as removed.
    assert page.count("plan adds</span>") >= 4
    assert "removed</span>" in page and "day off in lieu</span>" in page
    assert "Preview what will be written" in page and "Apply this plan" not in page

    state, audits = await rota_state(db), await audit_count(db)
    tag = _etag(page)
    preview = await scheduler.post(f"{where}/apply", data=_form(page, etag=tag, action="preview"))
    assert preview.status_code == 200, preview.text
    assert "Applying writes this (nothing is written yet)" in preview.text
    assert "week rotations are created" in preview.text and "Apply this plan" in preview.text
    assert await rota_state(db) == state and await audit_count(db) == audits

    done = await scheduler.post(
        f"{where}/apply", data=_form(preview.text, etag=_etag(preview.text), action="apply")
    )
    assert done.status_code == 303, done.text
    target = done.headers["location"]
    assert target.startswith(f"/rota/tokyo?view=4w&start={MONDAY.isoformat()}")
    assert "Applied plan" in unquote(target)
    assert await audit_count(db) == audits + 1
    cal = (await scheduler.get(target)).text
    assert "Applied plan" in cal
    # The calendar now shows the planned shifts: weekend shifts from the plan's rotations.
    assert "Plan " in cal and "10:00–16:00" in cal
    again = (await scheduler.get(where)).text
    assert "Applied " in again and "Preview what will be written" not in again


async def test_a_stale_apply_writes_nothing_and_says_why(
    api: Api, scheduler: httpx.AsyncClient, db: Database
) -> None:
    await _team(api)
    first = (await _propose(scheduler, time_limit_seconds="10")).headers["location"]
    second = (await _propose(scheduler, time_limit_seconds="10", seed="2")).headers["location"]
    page_one = (await scheduler.get(first)).text
    page_two = (await scheduler.get(second)).text
    # Another scheduler applies the first proposal while this one looks at the second.
    applied = await scheduler.post(
        f"{first}/apply", data=_form(page_one, etag=_etag(page_one), action="apply")
    )
    assert applied.status_code == 303
    state, audits = await rota_state(db), await audit_count(db)
    stale = await scheduler.post(
        f"{second}/apply", data=_form(page_two, etag=_etag(page_two), action="apply")
    )
    assert stale.status_code == 412, stale.text
    assert await rota_state(db) == state and await audit_count(db) == audits
    assert "Someone changed this team&#39;s rota since you opened this page" in stale.text
    # The page shows the team as it is now: this plan no longer fits and says so.
    assert "Propose again" in stale.text and "Apply this plan" not in stale.text


async def test_an_edit_of_the_rota_between_preview_and_apply_is_refused(
    api: Api, scheduler: httpx.AsyncClient, db: Database
) -> None:
    await _team(api)
    where = (await _propose(scheduler, time_limit_seconds="10")).headers["location"]
    page = (await scheduler.get(where)).text
    preview = await scheduler.post(f"{where}/apply", data=_form(page, etag=_etag(page)))
    assert "Apply this plan" in preview.text
    # The team's ETag moves (a settings change) after the preview was shown.
    tag = await api.etag("/v1/teams/tokyo")
    body = {"slug": "tokyo", "name": "Tokyo desk", "time_zone": "Asia/Tokyo", "coverage": COVERAGE}
    r = await api.client.put("/v1/teams/tokyo", json=body, headers=api.hdr(tag))
    assert r.status_code == 200, r.text
    state = await rota_state(db)
    stale = await scheduler.post(
        f"{where}/apply", data=_form(preview.text, etag=_etag(preview.text), action="apply")
    )
    assert stale.status_code == 412
    assert "Someone changed this team&#39;s rota since you opened this page" in stale.text
    assert await rota_state(db) == state


async def test_a_viewer_reads_plans_but_cannot_propose_or_apply(
    api: Api,
    scheduler: httpx.AsyncClient,
    app: Any,
    db: Database,
    clock: FixedClock,
) -> None:
    await _team(api)
    where = (await _propose(scheduler, time_limit_seconds="10")).headers["location"]
    page = (await scheduler.get(where)).text
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("203.0.113.6", 1))
    async with httpx.AsyncClient(transport=transport, base_url="https://console.test") as viewer:
        await sign_in(viewer, await add_user(db, clock, "viewer"))
        home = await viewer.get("/planner")
        assert home.status_code == 200 and where in home.text
        assert "proposing and applying them is for schedulers and admins" in home.text
        plan = await viewer.get(where)
        assert plan.status_code == 200
        assert "Current rota beside the plan" in plan.text
        assert "Preview what will be written" not in plan.text and 'name="etag"' not in plan.text
        token = csrf_of(plan.text)
        refused = await viewer.post(
            f"{where}/apply", data={"csrf_token": token, "etag": _etag(page), "action": "apply"}
        )
        assert refused.status_code == 403
        form = await viewer.get("/planner/tokyo")
        assert form.status_code == 200 and "Propose a rota" not in form.text
        post = await viewer.post("/planner/tokyo", data={"csrf_token": token, "start": "x"})
        assert post.status_code == 403


async def test_bad_input_comes_back_with_the_form_as_typed(
    api: Api, scheduler: httpx.AsyncClient
) -> None:
    await _team(api)
    r = await _propose(scheduler, start="2026-12-09", max_hours_per_week="41")
    assert r.status_code == 422
    assert "2026-12-09 is a Wednesday; the period starts on a Monday" in r.text
    assert 'value="2026-12-09"' in r.text and 'value="41"' in r.text
    slow = await _propose(scheduler, time_limit_seconds="600")
    assert slow.status_code == 422 and "at most 60 s here" in slow.text
    missing = await scheduler.get("/planner/nowhere")
    assert missing.status_code == 404
    assert (await scheduler.get("/planner/plans/999999")).status_code == 404


async def test_an_infeasible_team_is_told_what_to_relax_in_names(
    api: Api, scheduler: httpx.AsyncClient
) -> None:
    await api.team("tokyo", "Asia/Tokyo", coverage=COVERAGE)
    people = await api.people("tokyo", "Aki", tz="Asia/Tokyo")
    await api.rotation("tokyo", people, name="weekdays")
    r = await _propose(scheduler, time_limit_seconds="10")
    assert r.status_code == 303, r.text
    page = (await scheduler.get(r.headers["location"])).text
    assert "Infeasible." in page
    assert "What has to give for any plan to work:" in page
    assert "1 more person needed" in page
    assert "cannot be applied" in page and "Preview what will be written" not in page
