"""Outbound callbacks: the specialist is rung with a whisper, then the customer."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from app.core.clock import FixedClock
from app.core.db import Database
from app.models.call import Call
from tests.control.conftest import CALLER_ID
from tests.telephony.fake_twilio import (
    ACCOUNT_SID,
    API_KEY_SID,
    FakeTwilio,
    PlacedCall,
    last_call,
)
from tests.telephony.twilio import local_path, parse_twiml, post, query_of, says
from tests.worklist.conftest import Staff, add_account, add_item, ok, problem

CUSTOMER = "+14155550199"  # add_item's callback number


async def _dial(
    client: httpx.AsyncClient, item_id: int, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return await client.post(f"/v1/callbacks/{item_id}/dial", json=body or None, headers=headers)


async def _claimed_item(db: Database, clock: FixedClock, staff: Staff) -> int:
    account = await add_account(db, clock.now(), "Acme Widgets", tier="paid")
    return await add_item(
        db,
        clock.now(),
        kind="callback",
        account_id=account,
        status="claimed",
        claimed_by_id=staff.ann,
        claimed_at=clock.now(),
    )


async def _item(client: httpx.AsyncClient, item_id: int, staff: Staff) -> dict[str, Any]:
    return ok(await client.get(f"/v1/callbacks/{item_id}", headers=staff.admin))


async def _outbound(db: Database) -> list[Call]:
    async with db.transaction() as session:
        return list(await session.scalars(select(Call).where(Call.direction == "outbound")))


async def _to_customer(client: httpx.AsyncClient, placed: PlacedCall) -> tuple[str, httpx.Response]:
    """The specialist answers and presses 1: (the <Dial action>, the TwiML that dials)."""
    whisper = parse_twiml(await placed.answered())
    gather = whisper.find("Gather")
    assert gather is not None
    connected = await placed.fetch(gather.get("action", ""), Digits="1", CallStatus="in-progress")
    doc = parse_twiml(connected)
    dial = doc.find("Dial")
    assert dial is not None
    return dial.get("action", ""), connected


async def test_the_claimer_calls_back_specialist_first_then_customer(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    staff: Staff,
    fake_twilio: FakeTwilio,
) -> None:
    item_id = await _claimed_item(db, clock, staff)
    answer = await _dial(client, item_id, staff.as_ann)
    assert answer.status_code == 202, answer.text
    assert answer.json()["dial"]["status"] == "ringing_specialist"
    assert answer.json()["dial"]["attempts"] == 1

    [request] = fake_twilio.placed()
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    assert request.user == API_KEY_SID
    assert request.one("To") == "+14155550100"  # Ann's contact: the specialist first
    assert request.one("From") == CALLER_ID
    assert "/twilio/outbound/whisper" in request.one("Url")
    assert set(request.form["StatusCallbackEvent"]) == {
        "initiated",
        "ringing",
        "answered",
        "completed",
    }
    placed = last_call(fake_twilio, client)
    assert answer.headers["Location"] == f"/v1/calls/{placed.sid}"

    # The whisper says whom and why; 1 dials the customer from the company's caller ID.
    whisper = parse_twiml(await placed.answered())
    heard = " ".join(says(whisper))
    assert "Acme Widgets" in heard and "paid tier" in heard and "callback request" in heard
    gather = whisper.find("Gather")
    assert gather is not None
    connected = parse_twiml(
        await placed.fetch(gather.get("action", ""), Digits="1", CallStatus="in-progress")
    )
    dial = connected.find("Dial")
    assert dial is not None and dial.get("callerId") == CALLER_ID
    assert [n.text for n in dial.iter("Number")] == [CUSTOMER]
    assert (await _item(client, item_id, staff))["dial"]["status"] == "calling_customer"

    ended = parse_twiml(
        await placed.fetch(
            dial.get("action", ""), DialCallStatus="completed", DialCallDuration="95"
        )
    )
    assert [child.tag for child in ended] == ["Say", "Hangup"]
    assert (await placed.status("completed", CallDuration="120")).status_code == 204

    item = await _item(client, item_id, staff)
    assert item["dial"]["status"] == "answered" and item["dial"]["error"] is None
    assert item["status"] == "claimed"  # completing stays the specialist's choice

    call = ok(await client.get(f"/v1/calls/{placed.sid}", headers=staff.admin))
    assert call["direction"] == "outbound"
    assert call["work_item_id"] == item_id
    assert call["account_id"] == item["account"]["id"]
    assert call["to_number"] == CUSTOMER and call["from_number"] == CALLER_ID
    assert call["answered_by"] == staff.ann
    assert call["status"] == "completed" and call["outcome"] == "answered"
    assert call["duration"] == 120


async def test_no_answer_is_recorded_and_can_be_retried(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    staff: Staff,
    fake_twilio: FakeTwilio,
) -> None:
    item_id = await _claimed_item(db, clock, staff)
    assert (await _dial(client, item_id, staff.as_ann)).status_code == 202
    placed = last_call(fake_twilio, client)
    action, _ = await _to_customer(client, placed)
    doc = parse_twiml(await placed.fetch(action, DialCallStatus="no-answer"))
    assert "did not answer" in " ".join(says(doc))
    await placed.status("completed")
    item = await _item(client, item_id, staff)
    assert item["dial"]["status"] == "no_answer"
    assert item["dial"]["error"] == "the customer did not answer"

    again = await _dial(client, item_id, staff.as_ann)
    assert again.status_code == 202, again.text
    assert again.json()["dial"]["attempts"] == 2
    assert len(fake_twilio.placed()) == 2
    calls = await _outbound(db)
    assert len(calls) == 2 and {c.work_item_id for c in calls} == {item_id}
    assert sorted(c.outcome or "" for c in calls) == ["", "ended"]


async def test_busy_customer_and_a_specialist_who_does_not_answer(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    staff: Staff,
    fake_twilio: FakeTwilio,
) -> None:
    item_id = await _claimed_item(db, clock, staff)
    await _dial(client, item_id, staff.as_ann)
    placed = last_call(fake_twilio, client)
    action, _ = await _to_customer(client, placed)
    await placed.fetch(action, DialCallStatus="busy")
    assert (await _item(client, item_id, staff))["dial"]["status"] == "busy"

    await _dial(client, item_id, staff.as_ann)
    second = last_call(fake_twilio, client)
    await second.status("initiated")
    await second.status("ringing")
    await second.status("no-answer")
    item = await _item(client, item_id, staff)
    assert item["dial"]["status"] == "specialist_missed"
    assert item["dial"]["error"] == "the specialist did not answer"
    # The same callback repeated changes nothing.
    second.sequence -= 1
    assert (await second.status("no-answer")).status_code == 204
    assert (await _item(client, item_id, staff))["dial"]["attempts"] == 2


async def test_a_call_twilio_refuses_is_recorded_and_shown(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    staff: Staff,
    fake_twilio: FakeTwilio,
) -> None:
    item_id = await _claimed_item(db, clock, staff)
    fake_twilio.fail_next(400, "The 'To' number +14155550100 is not a valid phone number.")
    body = problem(await _dial(client, item_id, staff.as_ann), 502)
    assert "not a valid phone number" in body["detail"]
    assert body["item"]["dial"]["status"] == "failed"
    item = await _item(client, item_id, staff)
    assert item["dial"]["status"] == "failed"
    assert "Twilio answered 400" in item["dial"]["error"]
    [call] = await _outbound(db)
    assert call.status == "failed" and call.error == item["dial"]["error"]
    # A retry after the failure goes through.
    assert (await _dial(client, item_id, staff.as_ann)).status_code == 202


async def test_twilio_down_is_a_recorded_failure_not_a_hang(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    staff: Staff,
    fake_twilio: FakeTwilio,
    app: Any,
) -> None:
    item_id = await _claimed_item(db, clock, staff)
    # Nothing listens on port 9 of the loopback: the connection is refused at once.
    app.state.settings = app.state.settings.model_copy(
        update={"twilio_api_base_url": "http://127.0.0.1:9"}
    )
    body = problem(await _dial(client, item_id, staff.as_ann), 502)
    assert "cannot reach Twilio" in body["detail"] or "ConnectionError" in body["detail"]
    assert (await _item(client, item_id, staff))["dial"]["status"] == "failed"


async def test_who_may_dial(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    staff: Staff,
    fake_twilio: FakeTwilio,
) -> None:
    item_id = await _claimed_item(db, clock, staff)
    assert problem(await _dial(client, item_id, staff.viewer), 403)
    held = problem(await _dial(client, item_id, staff.as_bob), 409)
    assert held["claimed_by"]["id"] == staff.ann
    # Ann is already being rung for this item: a second dial is refused, nothing is placed.
    assert (await _dial(client, item_id, staff.scheduler)).status_code == 202
    assert problem(await _dial(client, item_id, staff.as_ann), 409)
    assert len(fake_twilio.placed()) == 1

    unclaimed = await add_item(db, clock.now(), kind="voicemail")
    body = problem(await _dial(client, unclaimed, staff.scheduler), 422)
    assert body["errors"][0]["field"] == "body.specialist_id"
    answer = await _dial(client, unclaimed, staff.admin, specialist_id=staff.bob)
    assert answer.status_code == 202, answer.text
    assert answer.json()["claimed_by"]["id"] == staff.bob
    assert fake_twilio.placed()[-1].one("To") == "+14155550100"

    done = await add_item(db, clock.now(), kind="callback", status="done", outcome="resolved")
    assert problem(await _dial(client, done, staff.admin, specialist_id=staff.ann), 409)
    assert problem(await _dial(client, 999_999, staff.admin), 404)
    assert len(fake_twilio.placed()) == 2


async def test_webhooks_of_the_callback_are_signed_and_real_twiml(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    staff: Staff,
    fake_twilio: FakeTwilio,
) -> None:
    item_id = await _claimed_item(db, clock, staff)
    await _dial(client, item_id, staff.as_ann)
    placed = last_call(fake_twilio, client)
    url = placed.params["Url"]
    unsigned = await client.post(local_path(url), data=placed.form(CallStatus="in-progress"))
    assert unsigned.status_code == 403
    # An unknown ref still answers TwiML (a goodbye), never an error.
    ref = query_of(url)["ref"]
    bogus = local_path(url).replace(f"ref={ref}", "ref=424242").replace("whisper", "connect")
    doc = parse_twiml(await post(client, bogus, placed.form(Digits="1")))
    assert doc.find("Hangup") is not None
    # Not pressing 1 leaves the item for later.
    whisper = parse_twiml(await placed.answered())
    gather = whisper.find("Gather")
    assert gather is not None
    parse_twiml(await placed.fetch(gather.get("action", ""), Digits="7"))
    item = await _item(client, item_id, staff)
    assert item["dial"]["status"] == "specialist_missed"


async def test_twilio_slow_to_answer_is_a_recorded_timeout(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    staff: Staff,
    fake_twilio: FakeTwilio,
    app: Any,
) -> None:
    item_id = await _claimed_item(db, clock, staff)
    app.state.settings = app.state.settings.model_copy(update={"twilio_rest_timeout_seconds": 0.5})
    fake_twilio.stalls.append(30)  # far longer than the timeout
    body = problem(await _dial(client, item_id, staff.as_ann), 502)
    assert "did not answer within 0.5 s" in body["detail"]
    item = await _item(client, item_id, staff)
    assert item["dial"]["status"] == "failed" and "0.5 s" in item["dial"]["error"]
