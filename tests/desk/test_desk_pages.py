"""The desk, wallboard and reports pages over HTTP with a signed-in session."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import update

from app.core.clock import FixedClock
from app.core.db import Database
from app.models.call import Call
from tests.console.helpers import add_user, csrf_of, sign_in
from tests.routing.calls import add_call
from tests.telephony.rota_rows import Person, staff

ANN = Person("Ann", "+14155550001", ["en"])
BOB = Person("Bob", "client:bob", ["en"])


async def _desk(
    browser: httpx.AsyncClient, db: Database, clock: FixedClock, who: str
) -> dict[str, int]:
    ids = await staff(db, clock.now(), {"support-en": [ANN, BOB]})
    email = await add_user(
        db, clock, "specialist", email=f"{who.lower()}@example.com", specialist_id=ids[who]
    )
    answer = await sign_in(browser, email)
    assert answer.status_code == 303, answer.text
    return ids


async def test_the_desk_sets_availability_and_wraps_up_a_call(
    browser: httpx.AsyncClient,
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    admin: dict[str, str],
) -> None:
    ids = await _desk(browser, db, clock, "Ann")
    created = await client.post(
        "/v1/dispositions", json={"code": "resolved", "label": "Resolved"}, headers=admin
    )
    assert created.status_code == 201
    async with db.transaction() as session:
        call_id = await add_call(session, clock.now(), status="completed", age=timedelta(minutes=5))
        await session.execute(
            update(Call).where(Call.id == call_id).values(answered_by_id=ids["Ann"])
        )
    page = await browser.get("/desk")
    assert page.status_code == 200, page.text
    assert "connect-src 'self' https://*.twilio.com" in page.headers["content-security-policy"]
    html = page.text
    assert 'id="availability-now">available<' in html
    assert "+14155550142" in html  # the call to wrap up
    csrf = csrf_of(html)
    moved = await browser.post(
        "/desk/availability", data={"csrf_token": csrf, "availability": "away"}
    )
    assert moved.status_code == 303
    state = await client.get(f"/v1/specialists/{ids['Ann']}/availability", headers=admin)
    assert state.json()["availability"] == "away"
    forged = await browser.post(
        "/desk/availability", data={"csrf_token": "nope", "availability": "available"}
    )
    assert forged.status_code == 403
    sid = html.split('name="call_sid" value="', 1)[1].split('"', 1)[0]
    done = await browser.post(
        "/desk/wrap-up",
        data={"csrf_token": csrf, "call_sid": sid, "disposition": "resolved", "note": ""},
    )
    assert done.status_code == 303, done.text
    detail = await client.get(f"/v1/calls/{sid}", headers=admin)
    assert detail.json()["disposition"] == "resolved"
    assert "Nothing to wrap up" in (await browser.get("/desk")).text
    bad = await browser.post(
        "/desk/wrap-up", data={"csrf_token": csrf, "call_sid": sid, "disposition": "nope"}
    )
    assert bad.status_code == 404 and "does not exist" in bad.text


async def test_the_softphone_token_needs_the_pages_csrf_token(
    browser: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    await _desk(browser, db, clock, "Bob")
    html = (await browser.get("/desk")).text
    assert "client:bob" in html
    assert (await browser.post("/desk/voice-token")).status_code == 403
    answer = await browser.post("/desk/voice-token", headers={"X-CSRF-Token": csrf_of(html)})
    # The test settings have no Twilio API key: the page says so instead of a token.
    assert answer.status_code == 409
    assert "TWIML_APP_SID" in answer.json()["detail"]


async def test_the_wallboard_and_reports_pages(
    browser: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    await staff(db, clock.now(), {"support-en": [ANN, BOB]})
    async with db.transaction() as session:
        await add_call(session, clock.now(), status="completed", age=timedelta(minutes=5))
    email = await add_user(db, clock, "viewer")
    await sign_in(browser, email)
    board = await browser.get("/wallboard")
    assert board.status_code == 200
    assert 'data-team="support-en"' in board.text and 'data-team="all"' in board.text
    tiles = await browser.get("/wallboard/tiles")
    assert tiles.status_code == 200 and "<html" not in tiles.text
    report = await browser.get(
        "/reports", params={"start": "2026-11-20", "end": "2026-11-20", "group_by": "hour"}
    )
    assert report.status_code == 200
    assert report.text.count("<svg") == 2
    csv = await browser.get(
        "/reports/summary.csv",
        params={"start": "2026-11-20", "end": "2026-11-20", "group_by": "hour"},
    )
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("group")
    bad = await browser.get("/reports", params={"group_by": "colour"})
    assert bad.status_code == 422 and "group by one of" in bad.text
    desk = await browser.get("/desk")
    assert desk.status_code == 403
