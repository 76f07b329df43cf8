"""The scheduler's swap requests page, and who is doing what on the calendar's "On now"."""

from __future__ import annotations

import re
from typing import Any

import httpx

from app.core.clock import FixedClock
from app.core.db import Database
from tests.console.helpers import add_user, csrf_of, sign_in
from tests.desk.swap_team import TUESDAY, WEDNESDAY, as_specialist, swap_team
from tests.rota_api.helpers import iso
from tests.telephony.rota_rows import Person, staff


def _card(html: str, swap_id: int) -> str:
    found = re.search(rf'<li class="card swap-card" data-swap="{swap_id}">(.*?)</li>', html, re.S)
    assert found, f"swap {swap_id} is not waiting on the page"
    return found.group(1)


async def _agreed(
    client: httpx.AsyncClient, keys: Any, ids: dict[str, int], shift: tuple[Any, Any]
) -> int:
    """Ann asks Cy to take one of her shifts and Cy accepts: it waits for a scheduler."""
    ann, cy = await as_specialist(keys, ids, "Ann"), await as_specialist(keys, ids, "Cy")
    body = {"kind": "ask", "teammate_id": ids["Cy"], "team": "t"}
    asked = await client.post(
        "/v1/swaps", json={**body, "start": iso(shift[0]), "end": iso(shift[1])}, headers=ann
    )
    assert asked.status_code == 201, asked.text
    assert asked.json()["needs_approval"] is True
    accepted = await client.post(f"/v1/swaps/{asked.json()['id']}/accept", headers=cy)
    assert (accepted.json()["state"], accepted.json()["override_id"]) == ("accepted", None)
    swap_id: int = asked.json()["id"]
    return swap_id


async def test_a_scheduler_requires_approval_then_approves_and_rejects_swaps(
    browser: httpx.AsyncClient,
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    keys: Any,
) -> None:
    api, ids = await swap_team(client, keys)
    await sign_in(browser, await add_user(db, clock, "scheduler"))
    page = await browser.get("/swaps")
    assert page.status_code == 200, page.text
    assert "Nothing waits for your approval." in page.text
    assert 'href="/swaps"' in page.text  # in the navigation
    row = re.search(r'<tr data-team="t">(.*?)</tr>', page.text, re.S)
    assert row and "go on the rota at once" in row.group(1)
    csrf = csrf_of(page.text)

    turned_on = await browser.post(
        "/swaps/approval", data={"csrf_token": csrf, "team": "t", "need_approval": "yes"}
    )
    assert turned_on.status_code == 303, turned_on.text
    settings = await client.get("/v1/teams/t/console-settings", headers=api.h)
    assert settings.json()["swaps_need_approval"] is True
    trail = await browser.get("/rota/t/audit")
    assert "swaps now need a scheduler&#39;s approval" in trail.text

    approve_me = await _agreed(client, keys, ids, TUESDAY)
    reject_me = await _agreed(client, keys, ids, WEDNESDAY)
    page = await browser.get("/swaps")
    card = _card(page.text, approve_me)
    assert "<strong>Cy</strong> takes <strong>Ann</strong>" in card
    assert "Tue 24 Nov 09:00–17:00 (UTC)" in card
    _card(page.text, reject_me)
    assert '<span class="count">2</span>' in page.text
    assert "2 swap requests wait for your approval" in (await browser.get("/rota")).text
    assert {s["specialist_name"] for s in await api.schedule(*TUESDAY, team="t")} >= {"Ann"}

    approved = await browser.post(f"/swaps/{approve_me}/approve", data={"csrf_token": csrf})
    assert approved.status_code == 303, approved.text
    assert "Approved" in (await browser.get(approved.headers["location"])).text
    on_tuesday = {s["specialist_name"] for s in await api.schedule(*TUESDAY, team="t")}
    assert "Cy" in on_tuesday and "Ann" not in on_tuesday
    rejected = await browser.post(f"/swaps/{reject_me}/reject", data={"csrf_token": csrf})
    assert rejected.status_code == 303, rejected.text
    on_wednesday = {s["specialist_name"] for s in await api.schedule(*WEDNESDAY, team="t")}
    assert "Ann" in on_wednesday and "Cy" not in on_wednesday

    swaps = {s["id"]: s for s in (await client.get("/v1/swaps", headers=api.h)).json()}
    assert swaps[approve_me]["state"] == "approved"
    assert swaps[approve_me]["decided_by"] == "Scheduler Person <scheduler@example.com>"
    assert swaps[reject_me]["state"] == "rejected"
    page = await browser.get("/swaps")
    assert "Nothing waits for your approval." in page.text
    assert 'id="swaps-awaiting"' not in (await browser.get("/rota")).text
    decided = page.text.split('id="decided"', 1)[1]
    assert f'data-swap="{approve_me}"' in decided and f'data-swap="{reject_me}"' in decided

    again = await browser.post(f"/swaps/{approve_me}/approve", data={"csrf_token": csrf})
    assert again.status_code == 409
    assert "is approved" in again.text
    forged = await browser.post(f"/swaps/{reject_me}/approve", data={"csrf_token": "nope"})
    assert forged.status_code == 403
    unknown = await browser.post(f"/swaps/{reject_me}/undo", data={"csrf_token": csrf})
    assert unknown.status_code == 404

    turned_off = await browser.post(
        "/swaps/approval", data={"csrf_token": csrf, "team": "t", "need_approval": "no"}
    )
    assert turned_off.status_code == 303
    settings = await client.get("/v1/teams/t/console-settings", headers=api.h)
    assert settings.json()["swaps_need_approval"] is False
    no_team = await browser.post(
        "/swaps/approval", data={"csrf_token": csrf, "team": "nope", "need_approval": "yes"}
    )
    assert no_team.status_code == 404


async def test_only_schedulers_and_admins_see_the_swaps_page(
    app: Any, db: Database, clock: FixedClock
) -> None:
    ids = await staff(db, clock.now(), {"support-en": [Person("Ann", "+14155550001", ["en"])]})
    for role, expected in (("specialist", 403), ("viewer", 403), ("admin", 200)):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.5", 1))
        async with httpx.AsyncClient(transport=transport, base_url="https://console.test") as http:
            email = await add_user(
                db,
                clock,
                role,
                specialist_id=ids["Ann"] if role == "specialist" else None,
            )
            await sign_in(http, email)
            assert (await http.get("/swaps")).status_code == expected, role
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://console.test"
    ) as anonymous:
        answer = await anonymous.get("/swaps")
        assert answer.status_code == 303 and "/login" in answer.headers["location"]


async def test_the_calendar_says_what_each_person_on_shift_is_doing(
    browser: httpx.AsyncClient,
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    admin: dict[str, str],
) -> None:
    ids = await staff(
        db,
        clock.now(),
        {
            "support-en": [
                Person("Ann", "+14155550001", ["en"]),
                Person("Bob", "client:bob", ["en"]),
            ]
        },
    )
    await sign_in(browser, await add_user(db, clock, "scheduler"))
    page = await browser.get("/rota/support-en")
    assert page.status_code == 200
    on_now = page.text.split('id="on-now"', 1)[1].split("</p>", 1)[0]
    ann = re.search(
        rf'data-specialist="{ids["Ann"]}">Ann <span class="presence presence-(\w+)"', on_now
    )
    assert ann and ann.group(1) == "available"
    assert "on_now.js" in page.text

    away = await client.put(
        f"/v1/specialists/{ids['Ann']}/availability", json={"availability": "away"}, headers=admin
    )
    assert away.status_code == 200, away.text
    line = await browser.get("/rota/support-en/on-now")
    assert line.status_code == 200
    assert re.search(
        rf'data-specialist="{ids["Ann"]}">Ann <span class="presence presence-away"', line.text
    )
    assert re.search(
        rf'data-specialist="{ids["Bob"]}">Bob <span class="presence presence-available"', line.text
    )
    assert (await browser.get("/rota/nope/on-now")).status_code == 404
