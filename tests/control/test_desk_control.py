"""The desk's "Call back" and "Transfer" over HTTP with a signed-in session, against the
fake Twilio (the page's script posts with Accept: application/json; without scripts the
forms come back to the desk with a notice)."""

from __future__ import annotations

from urllib.parse import unquote

import httpx

from app.core.clock import FixedClock
from app.core.db import Database
from tests.conftest import Keys
from tests.console.conftest import browser  # noqa: F401 - the signed-in client
from tests.console.helpers import add_user, csrf_of, sign_in
from tests.control.test_callback_dial import _claimed_item, _to_customer
from tests.control.test_transfers import CALLER_SID, KENJI, YUI, _accept, _setup
from tests.telephony.fake_twilio import FakeTwilio, last_call
from tests.worklist.conftest import Staff

JSON = {"Accept": "application/json"}


async def _signed_in(http: httpx.AsyncClient, db: Database, clock: FixedClock, sid: int) -> str:
    email = await add_user(db, clock, "specialist", email="ann@example.com", specialist_id=sid)
    assert (await sign_in(http, email)).status_code == 303
    page = await http.get("/desk")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


async def test_call_back_from_the_work_list_shows_each_step_and_a_retry(
    browser: httpx.AsyncClient,  # noqa: F811
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    staff: Staff,
    fake_twilio: FakeTwilio,
) -> None:
    item_id = await _claimed_item(db, clock, staff)
    csrf = await _signed_in(browser, db, clock, staff.ann)
    page = (await browser.get("/desk")).text
    assert f'action="/desk/work/{item_id}/dial"' in page and "Call back</button>" in page

    answer = await browser.post(
        f"/desk/work/{item_id}/dial", data={"csrf_token": csrf}, headers=JSON
    )
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["status"] == "ringing_specialist" and body["under_way"] is True
    assert body["text"].startswith("Ringing you")
    [placed] = fake_twilio.placed()
    assert placed.one("To") == "+14155550100"  # Ann first

    call = last_call(fake_twilio, client)
    dialed, _ = await _to_customer(client, call)
    progress = (await browser.get(f"/desk/work/{item_id}/dial")).json()
    assert (progress["status"], progress["text"]) == (
        "calling_customer",
        "Calling the customer… · attempt 1",
    )
    await call.fetch(dialed, DialCallStatus="no-answer")
    progress = (await browser.get(f"/desk/work/{item_id}/dial")).json()
    assert progress["status"] == "no_answer" and progress["under_way"] is False
    assert "No answer from the customer" in progress["text"]
    assert "Call back again" in progress["text"]
    # The desk shows the same words after a reload, with the button to retry.
    page = (await browser.get("/desk")).text
    assert "No answer from the customer" in page and "attempt 1" in page

    # Without scripts: the form comes back to the desk with the outcome as a notice.
    again = await browser.post(f"/desk/work/{item_id}/dial", data={"csrf_token": csrf})
    assert again.status_code == 303
    assert unquote(again.headers["location"]).startswith("/desk?notice=Ringing you")
    assert len(fake_twilio.placed()) == 2


async def test_call_back_says_why_twilio_refused(
    browser: httpx.AsyncClient,  # noqa: F811
    db: Database,
    clock: FixedClock,
    staff: Staff,
    fake_twilio: FakeTwilio,
) -> None:
    item_id = await _claimed_item(db, clock, staff)
    csrf = await _signed_in(browser, db, clock, staff.ann)
    fake_twilio.fail_next(400, "The 'To' number is not valid")
    answer = await browser.post(
        f"/desk/work/{item_id}/dial", data={"csrf_token": csrf}, headers=JSON
    )
    assert answer.status_code == 502
    assert answer.json()["status"] == "failed"
    assert "not valid" in answer.json()["text"] and "Call back again" in answer.json()["text"]
    # Someone else's item: the reason, not a silent failure.
    other = await _claimed_item(db, clock, staff)
    async with db.transaction() as session:
        from app.models.routing import WorkItem

        row = await session.get(WorkItem, other)
        assert row is not None
        row.claimed_by_id = staff.bob
    refused = await browser.post(
        f"/desk/work/{other}/dial", data={"csrf_token": csrf}, headers=JSON
    )
    assert refused.status_code == 409 and "claimed by Bob Example" in refused.json()["text"]


async def test_transfer_from_the_desk_during_a_call(
    browser: httpx.AsyncClient,  # noqa: F811
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    keys: Keys,
    fake_twilio: FakeTwilio,
) -> None:
    people = await _setup(db, clock, keys)
    csrf = await _signed_in(browser, db, clock, people["Ann"])
    page = (await browser.get("/desk")).text
    # On a call: the transfer control is shown for it, teams and people to choose from.
    assert f'id="transfer-call" value="{CALLER_SID}"' in page
    assert 'value="team:support-ja"' in page and f'value="specialist:{people["Kenji"]}"' in page
    answer = await browser.post(
        "/desk/transfer",
        data={
            "csrf_token": csrf,
            "call": CALLER_SID,
            "target": "team:support-ja",
            "mode": "cold",
        },
        headers=JSON,
    )
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["status"] == "ringing" and body["text"] == "Ringing someone in support-ja…"
    [placed] = fake_twilio.placed()
    assert placed.one("To") in (KENJI, YUI)
    target = last_call(fake_twilio, client)
    from tests.telephony.twilio import parse_twiml

    whisper = parse_twiml(await target.answered())
    gather = whisper.find("Gather")
    assert gather is not None
    await target.fetch(gather.get("action", ""), Digits="1")
    done = (await browser.get(f"/desk/transfers/{body['transfer_id']}")).json()
    assert done["status"] == "connected" and done["text"] == "Transferred to someone in support-ja."

    bad = await browser.post(
        "/desk/transfer",
        data={"csrf_token": csrf, "call": CALLER_SID, "target": "x"},
        headers=JSON,
    )
    assert bad.status_code == 422 and "Choose a team or a specialist" in bad.json()["text"]


async def test_a_warm_transfer_from_the_desk_brings_the_caller_in(
    browser: httpx.AsyncClient,  # noqa: F811
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    keys: Keys,
    fake_twilio: FakeTwilio,
) -> None:
    people = await _setup(db, clock, keys)
    csrf = await _signed_in(browser, db, clock, people["Ann"])
    answer = await browser.post(
        "/desk/transfer",
        data={
            "csrf_token": csrf,
            "call": CALLER_SID,
            "target": f"specialist:{people['Yui']}",
            "mode": "warm",
        },
        headers=JSON,
    )
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["text"] == "Ringing Yui…" and body["can_complete"] is False
    await _accept(client, last_call(fake_twilio, client))
    talking = (await browser.get(f"/desk/transfers/{body['transfer_id']}")).json()
    assert talking["status"] == "talking" and talking["can_complete"] is True
    assert talking["text"] == "Yui accepted: talk to them, then bring the caller in."
    done = await browser.post(
        "/desk/transfer/complete", data={"csrf_token": csrf, "call": CALLER_SID}, headers=JSON
    )
    assert done.status_code == 200, done.text
    assert done.json()["text"] == "Transferred to Yui."
