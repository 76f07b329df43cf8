"""Transfers over Twilio conferences: cold and warm, to a team or a specialist."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import httpx
from sqlalchemy import select

from app.core.clock import FixedClock
from app.core.db import Database
from app.models.call import Call, RingAttempt
from app.models.console import ConsoleEvent
from app.models.routing import SpecialistPresence
from tests.conftest import Keys
from tests.telephony.fake_twilio import FakeTwilio, PlacedCall, last_call
from tests.telephony.rota_rows import Person, staff
from tests.telephony.twilio import local_path, parse_twiml, post, says
from tests.worklist.conftest import ok, problem

CALLER_SID = "CA" + "c" * 32
ANN_LEG = "CA" + "a" * 32
ANN = "+14155550101"
KENJI = "+14155550102"
YUI = "+14155550103"


async def _setup(db: Database, clock: FixedClock, keys: Keys) -> dict[str, Any]:
    """Ann (support-en) has answered a Japanese caller; support-ja has Kenji and Yui."""
    ids = await staff(
        db,
        clock.now(),
        {
            "support-en": [Person("Ann", ANN, ["en", "ja"])],
            "support-ja": [Person("Kenji", KENJI, ["ja"]), Person("Yui", YUI, ["ja"])],
        },
    )
    now = clock.now()
    async with db.transaction() as session:
        call = Call(
            sid=CALLER_SID,
            from_number="+81355550100",
            to_number="+18005550100",
            team="support-en",
            language="ja",
            topic="payments",
            status="in-progress",
            outcome="answered",
            answered_by_id=ids["Ann"],
            started_at=now,
            answered_at=now,
            routed_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(call)
        await session.flush()
        attempt = RingAttempt(
            call_id=call.id,
            specialist_id=ids["Ann"],
            team="support-en",
            batch=1,
            contact=ANN,
            rung_at=now,
            result="accepted",
            leg_sid=ANN_LEG,
        )
        session.add(attempt)
        await session.flush()
        session.add(
            SpecialistPresence(
                specialist_id=ids["Ann"],
                state="busy",
                call_id=call.id,
                attempt_id=attempt.id,
                updated_at=now,
            )
        )
    return {
        **ids,
        "as_ann": await keys.headers("specialist", name="ann", specialist_id=ids["Ann"]),
        "as_kenji": await keys.headers("specialist", name="kenji", specialist_id=ids["Kenji"]),
    }


async def _transfer(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return await client.post(f"/v1/calls/{CALLER_SID}/transfer", json=body, headers=headers)


def _updates(fake: FakeTwilio, sid: str) -> list[str]:
    """The Url of every update of a call the fake was asked for."""
    return [
        r.one("Url")
        for r in fake.requests
        if r.path.endswith(f"/Calls/{sid}.json") and "Url" in r.form
    ]


def _conference(doc: ElementTree.Element) -> ElementTree.Element:
    found = doc.find("Dial/Conference")
    assert found is not None, ElementTree.tostring(doc)
    return found


def _caller_form(**extra: str) -> dict[str, str]:
    form = {
        "CallSid": CALLER_SID,
        "AccountSid": "AC" + "1" * 32,
        "From": "+81355550100",
        "To": "+18005550100",
        "CallStatus": "in-progress",
        "Direction": "inbound",
    }
    form.update(extra)
    return form


async def _caller_fetch(client: httpx.AsyncClient, url: str, **extra: str) -> ElementTree.Element:
    return parse_twiml(await post(client, local_path(url), _caller_form(**extra)))


async def _accept(client: httpx.AsyncClient, target: PlacedCall) -> ElementTree.Element:
    whisper = parse_twiml(await target.answered())
    gather = whisper.find("Gather")
    assert gather is not None
    return parse_twiml(await target.fetch(gather.get("action", ""), Digits="1"))


async def _attempts(db: Database) -> list[RingAttempt]:
    async with db.transaction() as session:
        return list(
            await session.scalars(select(RingAttempt).where(RingAttempt.transfer_id.is_not(None)))
        )


async def test_cold_transfer_to_a_team(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    keys: Keys,
    fake_twilio: FakeTwilio,
) -> None:
    people = await _setup(db, clock, keys)
    answer = await _transfer(client, people["as_ann"], team="support-ja", mode="cold")
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["status"] == "ringing" and body["from_specialist_id"] == people["Ann"]
    [placed] = fake_twilio.placed()
    assert placed.one("To") in (KENJI, YUI)
    assert "/twilio/xfer/whisper" in placed.one("Url")
    [hold_url] = _updates(fake_twilio, CALLER_SID)
    # The caller holds in the conference until the target joins.
    held = await _caller_fetch(client, hold_url)
    room = _conference(held)
    assert room.get("startConferenceOnEnter") == "false"
    assert room.get("endConferenceOnExit") == "true"
    assert room.text == f"transfer-{body['id']}"

    target = last_call(fake_twilio, client)
    whisper = parse_twiml(await target.answered())
    heard = " ".join(says(whisper))
    # Who hands over in English; the call itself in the caller's language, as routed calls.
    assert "Transfer from Ann." in heard and "日本語" in heard and "お支払い" in heard
    assert {s.get("language") for s in whisper.iter("Say")} >= {"en-US", "ja-JP"}
    gather = whisper.find("Gather")
    assert gather is not None
    joined = parse_twiml(await target.fetch(gather.get("action", ""), Digits="1"))
    assert _conference(joined).get("startConferenceOnEnter") == "true"
    assert _conference(joined).text == room.text

    [transfer] = ok(await client.get(f"/v1/calls/{CALLER_SID}/transfers", headers=people["as_ann"]))
    assert transfer["status"] == "connected"
    assert [a["result"] for a in transfer["attempts"]] == ["accepted"]
    detail = ok(await client.get(f"/v1/calls/{CALLER_SID}", headers=people["as_ann"]))
    assert detail["outcome"] == "answered"  # it was answered; the transfer is on the call
    assert [a["result"] for a in detail["attempts"]] == ["accepted", "accepted"]


async def test_a_cold_transfer_nobody_takes_comes_back_to_the_first_specialist(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    keys: Keys,
    fake_twilio: FakeTwilio,
) -> None:
    people = await _setup(db, clock, keys)
    assert (await _transfer(client, people["as_ann"], team="support-ja")).status_code == 202
    first = last_call(fake_twilio, client)
    await first.status("ringing")
    await first.status("no-answer")
    # The next person of the team is rung.
    assert len(fake_twilio.placed()) == 2
    second = last_call(fake_twilio, client)
    assert {first.params["To"], second.params["To"]} == {KENJI, YUI}
    # The second declines after the whisper.
    whisper = parse_twiml(await second.answered())
    gather = whisper.find("Gather")
    assert gather is not None
    declined = parse_twiml(await second.fetch(gather.get("action", ""), Digits="9"))
    assert declined.find("Hangup") is not None
    await second.status("completed")
    # Nobody left: the caller is moved on at once, back to Ann.
    updates = _updates(fake_twilio, CALLER_SID)
    assert len(updates) == 2
    back = await _caller_fetch(client, updates[-1])
    assert "Connecting you back" in " ".join(says(back))
    assert [n.text for n in back.iter("Number")] == [ANN]
    dial = back.find("Dial")
    assert dial is not None
    # Ann does not answer either: the caller gets the fallback, never silence.
    fallback = await _caller_fetch(client, dial.get("action", ""), DialCallStatus="no-answer")
    assert fallback.find("Record") is not None or fallback.find("Dial") is not None
    [transfer] = ok(await client.get(f"/v1/calls/{CALLER_SID}/transfers", headers=people["as_ann"]))
    assert transfer["status"] == "returned" and transfer["error"] == "no target answered"
    assert sorted(a["result"] for a in transfer["attempts"]) == ["declined", "no-answer"]
    # Both targets are free again.
    async with db.transaction() as session:
        states = {
            p.specialist_id: p.state for p in await session.scalars(select(SpecialistPresence))
        }
    assert states[people["Kenji"]] == "free" and states[people["Yui"]] == "free"


async def test_warm_transfer_to_a_specialist(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    keys: Keys,
    fake_twilio: FakeTwilio,
) -> None:
    people = await _setup(db, clock, keys)
    answer = await _transfer(client, people["as_ann"], specialist_id=people["Yui"], mode="warm")
    assert answer.status_code == 202, answer.text
    [placed] = fake_twilio.placed()
    assert placed.one("To") == YUI
    # Yui's console gets the screen pop of the call.
    async with db.transaction() as session:
        rings = list(
            await session.scalars(
                select(ConsoleEvent.specialist_id).where(ConsoleEvent.kind == "ring")
            )
        )
    assert rings == [people["Yui"]]
    # Ann's leg moves into the conference; the caller's <Dial> ends and they hold.
    [origin_url] = _updates(fake_twilio, ANN_LEG)
    assert _updates(fake_twilio, CALLER_SID) == []
    ann_room = parse_twiml(
        await post(client, local_path(origin_url), _caller_form(CallSid=ANN_LEG))
    )
    assert _conference(ann_room).get("startConferenceOnEnter") == "true"
    assert _conference(ann_room).get("endConferenceOnExit") == "false"
    holding = parse_twiml(
        await post(
            client,
            "/twilio/dial?v=3&lang=ja",
            _caller_form(DialCallStatus="completed", DialCallSid=ANN_LEG),
        )
    )
    redirect = holding.find("Redirect")
    assert redirect is not None and "/twilio/xfer/hold" in (redirect.text or "")
    # Yui accepts and talks with Ann; the caller keeps holding.
    joined = await _accept(client, last_call(fake_twilio, client))
    assert _conference(joined).get("endConferenceOnExit") == "false"
    still = await _caller_fetch(client, redirect.text or "")
    assert still.find("Redirect") is not None and still.find("Dial") is None
    # Kenji is not the one who started it; Ann completes: the caller joins.
    assert problem(
        await client.post(f"/v1/calls/{CALLER_SID}/transfer/complete", headers=people["as_kenji"]),
        403,
    )
    done = ok(
        await client.post(f"/v1/calls/{CALLER_SID}/transfer/complete", headers=people["as_ann"])
    )
    assert done["status"] == "connected"
    [bring] = _updates(fake_twilio, CALLER_SID)
    room = _conference(await _caller_fetch(client, bring))
    assert room.get("startConferenceOnEnter") == "true"
    # Completing twice is a conflict.
    assert problem(
        await client.post(f"/v1/calls/{CALLER_SID}/transfer/complete", headers=people["as_ann"]),
        409,
    )


async def test_a_warm_transfer_nobody_answers_returns_the_caller_to_the_specialist(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    keys: Keys,
    fake_twilio: FakeTwilio,
) -> None:
    people = await _setup(db, clock, keys)
    await _transfer(client, people["as_ann"], specialist_id=people["Kenji"], mode="warm")
    target = last_call(fake_twilio, client)
    await target.status("ringing")
    await target.status("busy")
    [bring] = _updates(fake_twilio, CALLER_SID)
    room = _conference(await _caller_fetch(client, bring))
    assert room.get("startConferenceOnEnter") == "true"  # Ann is in there waiting
    [transfer] = ok(await client.get(f"/v1/calls/{CALLER_SID}/transfers", headers=people["as_ann"]))
    assert transfer["status"] == "returned"
    assert [a["result"] for a in transfer["attempts"]] == ["busy"]


async def test_what_cannot_be_transferred(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    keys: Keys,
    admin: dict[str, str],
    fake_twilio: FakeTwilio,
) -> None:
    people = await _setup(db, clock, keys)
    both = problem(
        await _transfer(client, admin, team="support-ja", specialist_id=people["Yui"]), 422
    )
    assert "exactly one" in str(both)
    assert problem(await _transfer(client, people["as_kenji"], team="support-ja"), 403)
    assert problem(await _transfer(client, admin, team="support-fr"), 409)  # nobody there
    same = problem(await _transfer(client, admin, specialist_id=people["Ann"]), 422)
    assert same["errors"][0]["field"] == "body.specialist_id"
    assert problem(
        await client.post("/v1/calls/CA404/transfer", json={"team": "support-ja"}, headers=admin),
        404,
    )
    assert fake_twilio.requests == []
    # Twilio refuses: recorded, the caller stays with Ann, the target is free again.
    fake_twilio.fail_next(400, "Account not authorized to call +14155550103")
    failed = problem(await _transfer(client, admin, specialist_id=people["Yui"]), 502)
    assert failed["transfer"]["status"] == "failed"
    assert "not authorized" in failed["transfer"]["error"]
    assert _updates(fake_twilio, CALLER_SID) == [] and _updates(fake_twilio, ANN_LEG) == []
    async with db.transaction() as session:
        yui = await session.get(SpecialistPresence, people["Yui"])
    assert yui is not None and yui.state == "free"
    # The target is called but the caller cannot be moved: the target's call is ended.
    fake_twilio.failures += [None, (503, "Service unavailable")]
    refused = problem(await _transfer(client, admin, specialist_id=people["Yui"]), 502)
    assert refused["transfer"]["status"] == "failed"
    target = last_call(fake_twilio, client)
    ended = [r for r in fake_twilio.requests if r.path.endswith(f"/Calls/{target.sid}.json")]
    assert [r.one("Status") for r in ended] == ["completed"]
    # A new transfer can start after the failed ones.
    assert (await _transfer(client, admin, specialist_id=people["Yui"])).status_code == 202
    assert problem(await _transfer(client, admin, team="support-ja"), 409)  # one at a time
