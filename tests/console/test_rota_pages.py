"""The scheduler's pages over HTTP: calendar, gaps, DST days, edits with preview, stale edits."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from app.core.clock import FixedClock
from app.core.db import Database
from tests.conftest import Keys
from tests.console.helpers import add_user, csrf_of, sign_in
from tests.rota_api.helpers import Api

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


@pytest.fixture
async def api(client: httpx.AsyncClient, keys: Keys) -> Api:
    """A scheduler's API key, to arrange teams the way any program would."""
    return Api(client, await keys.headers("scheduler"))


@pytest.fixture
async def scheduler(
    browser: httpx.AsyncClient, db: Database, clock: FixedClock
) -> httpx.AsyncClient:
    """A browser signed in as a scheduler."""
    await sign_in(browser, await add_user(db, clock, "scheduler"))
    return browser


async def _paris(api: Api, min_staff: int = 1) -> dict[str, int]:
    await api.team(
        "fr",
        "Europe/Paris",
        coverage=[{"days": WEEKDAYS, "start": "09:00", "end": "18:00", "min_staff": min_staff}],
    )
    ids = await api.people("fr", "Ana", "Ben", "Cleo", tz="Europe/Paris")
    await api.rotation(
        "fr",
        ids[:2],
        name="weekdays",
        start="09:00",
        end="18:00",
        effective_from=datetime(2026, 11, 2, tzinfo=UTC),
    )
    return dict(zip(("Ana", "Ben", "Cleo"), ids, strict=True))


def _etag(page: str) -> str:
    found = re.search(r'name="etag" value="([^"]+)"', page)
    assert found, "no ETag in the form"
    return html.unescape(found.group(1))


def _form(page: str, **values: Any) -> dict[str, Any]:
    tag = re.search(r'name="state_tag" value="([^"]+)"', page)
    data = {"csrf_token": csrf_of(page), **values}
    if tag:
        data["state_tag"] = tag.group(1)
    return data


async def test_the_calendar_shows_shifts_and_the_gaps_against_the_rules(
    api: Api, scheduler: httpx.AsyncClient
) -> None:
    await _paris(api, min_staff=3)
    page = await scheduler.get("/rota/fr", params={"start": "2026-11-16"})
    assert page.status_code == 200
    text = page.text
    assert "Team fr" in text and "Times in <strong>Europe/Paris</strong>" in text
    assert text.count("<summary>09:00–18:00") == 10  # Ana and Ben, Monday to Friday
    assert "gap 09:00–18:00 (2 of 3)" in text
    assert "5 coverage gaps" in text
    assert text.count('class="h gap"') == 5 * 9 + 1  # and the legend
    assert "Fri 20 Nov · today" in text
    # The four-week view and the next week.
    four = await scheduler.get("/rota/fr", params={"view": "4w", "start": "2026-11-16"})
    assert four.text.count("<summary>09:00–18:00") == 40 and "Week of 7 Dec" in four.text


async def test_a_team_with_enough_people_has_no_gap(api: Api, scheduler: httpx.AsyncClient) -> None:
    await _paris(api, min_staff=2)
    page = await scheduler.get("/rota/fr", params={"start": "2026-11-16"})
    assert "No coverage gaps in this period" in page.text
    assert page.text.count('class="h gap"') == 1  # the legend's


async def test_dst_days_have_their_real_length(api: Api, scheduler: httpx.AsyncClient) -> None:
    await api.team("de", "Europe/Berlin")
    ids = await api.people("de", "Dora", tz="Europe/Berlin")
    await api.rotation(
        "de",
        ids,
        days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        effective_from=datetime(2026, 10, 1, tzinfo=UTC),
    )
    spring = await scheduler.get("/rota/de", params={"start": "2027-03-22"})
    assert "23 h day: clocks go forward" in spring.text
    assert spring.text.count('class="h ') == 6 * 24 + 23 + 4  # + the legend's four
    assert spring.text.count("<summary>09:00–17:00") == 7  # wall-clock times hold across the change
    autumn = await scheduler.get("/rota/de", params={"start": "2026-10-19"})
    assert "25 h day: clocks go back" in autumn.text
    assert autumn.text.count('class="h ') == 6 * 24 + 25 + 4
    tokyo = await scheduler.get("/rota/de", params={"start": "2027-03-22", "tz": "Asia/Tokyo"})
    assert "23 h day" not in tokyo.text and "Times in <strong>Asia/Tokyo</strong>" in tokyo.text
    assert "17:00–01:00" in tokyo.text  # Berlin's 09:00-17:00 in Tokyo (CEST)


async def test_a_cover_is_previewed_then_applied_and_shown(
    api: Api, scheduler: httpx.AsyncClient
) -> None:
    ids = await _paris(api)
    form = await scheduler.get(
        "/rota/fr/edit/cover",
        params={
            "specialist": ids["Ana"],
            "start": "2026-11-23T08:00:00+00:00",
            "end": "2026-11-23T17:00:00+00:00",
        },
    )
    assert 'value="2026-11-23"' in form.text and 'value="09:00"' in form.text
    values = {
        "specialist_id": ids["Ana"],
        "substitute_id": ids["Cleo"],
        "start_date": "2026-11-23",
        "start_time": "09:00",
        "end_date": "",
        "end_time": "18:00",
        "reason": "dentist",
    }
    preview = await scheduler.post(
        "/rota/fr/edit/cover", data=_form(form.text, **values, action="preview")
    )
    assert preview.status_code == 200
    assert "Cleo covers Ana, Mon 23 Nov 09:00–18:00." in preview.text
    assert "Cleo: Mon 23 Nov 09:00–18:00 (covering Ana, fr)" in preview.text
    assert "Ana: Mon 23 Nov 09:00–18:00 (weekdays, fr)" in preview.text
    overrides = await api.get("/v1/overrides")
    assert overrides.json()["items"] == []  # a preview writes nothing
    applied = await scheduler.post(
        "/rota/fr/edit/cover", data=_form(preview.text, **values, action="apply")
    )
    assert applied.status_code == 303
    target = applied.headers["location"]
    assert target.startswith("/rota/fr?start=2026-11-23&done=")
    calendar = await scheduler.get(target)
    assert "Saved: Cleo covers Ana" in unquote(calendar.text)
    assert "covers Ana" in calendar.text and "covered by Cleo" in calendar.text
    assert len((await api.get("/v1/overrides")).json()["items"]) == 1
    audit = await scheduler.get("/rota/fr/audit")
    assert (
        "Cleo covers Ana" in audit.text
        and "Scheduler Person &lt;scheduler@example.com&gt;" in audit.text
    )


async def test_a_stale_edit_says_so_and_keeps_the_form(
    api: Api, scheduler: httpx.AsyncClient
) -> None:
    ids = await _paris(api)
    form = await scheduler.get("/rota/fr/edit/leave")
    values = {
        "specialist_id": ids["Ben"],
        "start_date": "2026-11-24",
        "start_time": "00:00",
        "end_date": "2026-11-24",
        "end_time": "00:00",
        "whole_days": "on",
        "reason": "moving house",
    }
    stale_form = _form(form.text, **values)
    # Meanwhile someone else gives Ana leave on the same day.
    r = await api.client.post(
        "/v1/overrides",
        headers=api.h,
        json={
            "kind": "leave",
            "specialist_id": ids["Ana"],
            "start": "2026-11-24T00:00:00+01:00",
            "end": "2026-11-25T00:00:00+01:00",
        },
    )
    assert r.status_code == 201, r.text
    response = await scheduler.post("/rota/fr/edit/leave", data={**stale_form, "action": "apply"})
    assert response.status_code == 412
    assert "Someone else changed this team" in response.text
    assert 'value="moving house"' in response.text and 'value="2026-11-24"' in response.text
    assert "The team's current week" in response.text and "badge leave" in response.text
    assert len((await api.get("/v1/overrides")).json()["items"]) == 1  # nothing saved
    # With the fresh state tag the same input goes through.
    again = await scheduler.post(
        "/rota/fr/edit/leave", data={**_form(response.text, **values), "action": "apply"}
    )
    assert again.status_code == 303


async def test_bad_input_is_explained_and_kept(api: Api, scheduler: httpx.AsyncClient) -> None:
    ids = await _paris(api)
    form = await scheduler.get("/rota/fr/edit/cover")
    response = await scheduler.post(
        "/rota/fr/edit/cover",
        data=_form(
            form.text,
            specialist_id=ids["Ana"],
            substitute_id=ids["Ana"],
            start_date="2026-11-23",
            start_time="09:00",
            end_time="18:00",
            reason="typed",
            action="preview",
        ),
    )
    assert response.status_code == 422
    assert "substitute_id must be someone else" in response.text
    assert 'value="typed"' in response.text
    past = await scheduler.post(
        "/rota/fr/edit/extra",
        data=_form(
            form.text,
            specialist_id=ids["Cleo"],
            start_date="2026-11-02",
            start_time="09:00",
            end_time="18:00",
            action="preview",
        ),
    )
    assert past.status_code == 422 and "in the past" in past.text


async def test_rotation_edit_preview_and_stale_etag(api: Api, scheduler: httpx.AsyncClient) -> None:
    ids = await _paris(api)
    rotation_id = (await api.get("/v1/rotations")).json()["items"][0]["id"]
    form = await scheduler.get(f"/rota/fr/rotations/{rotation_id}")
    assert form.status_code == 200
    etag = _etag(form.text)
    values = {
        "csrf_token": csrf_of(form.text),
        "etag": etag,
        "name": "weekdays",
        "members[]": [str(ids["Ana"]), str(ids["Ben"]), str(ids["Cleo"])],
        "days[]": WEEKDAYS,
        "start": "09:00",
        "end": "18:00",
        "length_days": "1",
        "every_weeks": "1",
        "assignment": "all",
        "per_occurrence": "1",
    }
    preview = await scheduler.post(
        f"/rota/fr/rotations/{rotation_id}", data={**values, "action": "preview"}
    )
    assert preview.status_code == 200, preview.text
    assert "Cleo: Mon 23 Nov 09:00–18:00 (weekdays, fr)" in preview.text
    # Another scheduler renames it through the API first.
    current = await api.get(f"/v1/rotations/{rotation_id}")
    rules = {
        k: v
        for k, v in current.json()["current"].items()
        if k not in ("seq", "effective_from", "effective_until")
    }
    put = await api.client.put(
        f"/v1/rotations/{rotation_id}",
        headers=api.hdr(current.headers["etag"]),
        json={**rules, "name": "renamed"},
    )
    assert put.status_code == 200, put.text
    stale = await scheduler.post(
        f"/rota/fr/rotations/{rotation_id}", data={**values, "action": "apply"}
    )
    assert stale.status_code == 412 and "Someone else changed" in stale.text
    fresh = _etag(stale.text)
    assert fresh != etag
    done = await scheduler.post(
        f"/rota/fr/rotations/{rotation_id}", data={**values, "etag": fresh, "action": "apply"}
    )
    assert done.status_code == 303
    members = (await api.get(f"/v1/rotations/{rotation_id}")).json()["current"]["members"]
    assert sorted(members) == sorted(ids.values())


async def test_team_settings_preview_the_gaps_they_open(
    api: Api, scheduler: httpx.AsyncClient
) -> None:
    await _paris(api)
    form = await scheduler.get("/rota/fr/settings")
    assert "mon-fri 09:00-18:00 1" in form.text
    data = {
        "csrf_token": csrf_of(form.text),
        "etag": _etag(form.text),
        "name": "Paris",
        "time_zone": "Europe/Paris",
        "languages": "fr en",
        "holiday_country": "FR",
        "holiday_subdivision": "",
        "coverage": "mon-fri 09:00-18:00 3",
    }
    preview = await scheduler.post("/rota/fr/settings", data={**data, "action": "preview"})
    assert preview.status_code == 200
    assert "Gaps opened" in preview.text and "(2 of 3 on shift)" in preview.text
    bad = await scheduler.post(
        "/rota/fr/settings", data={**data, "coverage": "weekdays nine to five", "action": "preview"}
    )
    assert bad.status_code == 422 and "coverage line 1" in bad.text
    applied = await scheduler.post("/rota/fr/settings", data={**data, "action": "apply"})
    assert applied.status_code == 303
    team = (await api.get("/v1/teams/fr")).json()
    assert team["name"] == "Paris" and team["coverage"][0]["min_staff"] == 3
    assert team["holidays"] == {"country": "FR", "subdivision": None}


async def test_people_are_added_and_deactivated_with_a_preview(
    api: Api, scheduler: httpx.AsyncClient
) -> None:
    ids = await _paris(api)
    page = await scheduler.get("/rota/fr/people")
    added = await scheduler.post(
        "/rota/fr/people",
        data={
            "csrf_token": csrf_of(page.text),
            "name": "Dina",
            "contact": "client:dina",
            "time_zone": "Europe/Paris",
            "languages": "fr",
            "skills": "",
            "action": "apply",
        },
    )
    assert added.status_code == 303
    page = await scheduler.get("/rota/fr/people")
    assert "Dina" in page.text
    etag = re.search(
        rf'/people/{ids["Ana"]}/active".*?name="etag" value="([^"]+)"', page.text, re.S
    )
    assert etag
    preview = await scheduler.post(
        f"/rota/fr/people/{ids['Ana']}/active",
        data={
            "csrf_token": csrf_of(page.text),
            "etag": html.unescape(etag.group(1)),
            "active": "false",
            "action": "preview",
        },
    )
    assert preview.status_code == 200 and "Deactivate Ana" in preview.text
    assert "Ana: Mon 23 Nov 09:00–18:00 (weekdays, fr)" in preview.text
    applied = await scheduler.post(
        f"/rota/fr/people/{ids['Ana']}/active",
        data={
            "csrf_token": csrf_of(page.text),
            "etag": html.unescape(etag.group(1)),
            "active": "false",
            "action": "apply",
        },
    )
    assert applied.status_code == 303
    assert (await api.get(f"/v1/specialists/{ids['Ana']}")).json()["active"] is False


async def test_ledger_and_fairness_tables(api: Api, scheduler: httpx.AsyncClient) -> None:
    await _paris(api)
    page = await scheduler.get(
        "/rota/fr/ledger", params={"start": "2026-11-02", "end": "2026-11-15"}
    )
    assert page.status_code == 200
    assert "Days off in lieu" in page.text and "Fairness" in page.text
    # Ana worked ten weekday shifts of nine hours in those two weeks.
    assert re.search(r"Ana</th>\s*<td class=\"num\">10</td><td class=\"num\">90.0</td>", page.text)
