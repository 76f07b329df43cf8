"""Without Twilio's REST settings the desk's call control says so plainly (503)."""

from __future__ import annotations

import httpx

from app.core.clock import FixedClock
from app.core.db import Database
from tests.console.helpers import add_user, csrf_of, sign_in
from tests.telephony.rota_rows import Person, staff
from tests.worklist.conftest import add_item

JSON = {"Accept": "application/json"}


async def test_call_back_and_transfer_say_twilio_is_not_set_up(
    browser: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    ids = await staff(db, clock.now(), {"support-en": [Person("Ann", "+14155550001", ["en"])]})
    item_id = await add_item(db, clock.now(), kind="callback")
    email = await add_user(
        db, clock, "specialist", email="ann@example.com", specialist_id=ids["Ann"]
    )
    assert (await sign_in(browser, email)).status_code == 303
    csrf = csrf_of((await browser.get("/desk")).text)
    answer = await browser.post(
        f"/desk/work/{item_id}/dial", data={"csrf_token": csrf}, headers=JSON
    )
    assert answer.status_code == 503
    assert "Calling out is not set up" in answer.json()["text"]
    assert "TWILIO_API_KEY_SID" in answer.json()["text"]
    moved = await browser.post(
        "/desk/transfer",
        data={
            "csrf_token": csrf,
            "call": "CA" + "1" * 32,
            "target": "team:support-en",
            "mode": "cold",
        },
        headers=JSON,
    )
    assert moved.status_code == 503 and "Calling out is not set up" in moved.json()["text"]
    # Nothing was written: the item is as it was.
    page = (await browser.get("/desk")).text
    assert "Placing the call" not in page
