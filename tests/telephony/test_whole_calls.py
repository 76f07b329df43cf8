"""Whole calls through the shipped support flow, driven as Twilio drives them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from app.core.clock import FixedClock
from app.core.db import Database
from app.models.call import Call, CallStateRow
from app.models.rota import Team
from app.rota.schemas import WEEKDAYS
from tests.telephony.rota_rows import Person, staff
from tests.telephony.twilio import (
    Caller,
    local_path,
    parse_twiml,
    post,
    query_of,
    say_languages,
    says,
    verbs,
)

ANN = Person("Ann Example", "+14155550001", ["en"], ["payments"])
BOB = Person("Bob Example", "client:bob", ["en"], ["billing"])
KEN = Person("Ken Example", "sip:ken@pbx.example.com", ["en", "ja"], [])


async def _detail(client: httpx.AsyncClient, admin: dict[str, str], sid: str) -> dict[str, Any]:
    answer = await client.get(f"/v1/calls/{sid}", headers=admin)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _leg(
    client: httpx.AsyncClient, caller: Caller, noun: str, leg_sid: str, **extra: str
) -> Any:
    """Post to a leg's URL as Twilio does for the specialist's leg."""
    form = {
        "CallSid": leg_sid,
        "ParentCallSid": caller.sid,
        "From": caller.from_number,
        "To": "+14155550001",
        "CallStatus": "in-progress",
        "Direction": "outbound-dial",
        **extra,
    }
    return await post(client, local_path(noun), form)


async def test_a_known_caller_is_greeted_and_put_through(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    admin: dict[str, str],
    make_account: Any,
) -> None:
    account = await make_account("Acme Robotics", ["(415) 555-0100"])
    ids = await staff(db, clock.now(), {"support-en": [BOB, ANN]})
    caller = Caller(client, from_number="+14155550100")

    doc = await caller.dial_in()
    assert says(doc)[0] == "Thank you for calling support."
    assert {"en-US", "ja-JP", "fr-FR", "de-DE"} <= say_languages(doc)
    assert verbs(doc) == ["Gather", "Redirect"]
    assert doc.find("Gather").get("numDigits") == "1"  # type: ignore[union-attr]

    doc = await caller.stay_silent()  # no key: asked again
    assert "Sorry, we didn't get that." in says(doc)
    doc = await caller.press("1")
    assert says(doc)[0] == "Welcome back, Acme Robotics."
    assert caller.gather.get("input") == "dtmf speech"

    doc = await caller.press("1")  # payments
    assert says(doc) == ["Please hold while we connect you to a specialist."]
    dial = doc.find("Dial")
    assert dial is not None and dial.get("timeout") == "20"
    legs = list(dial)
    # Ann has the payments skill, so she comes first; each leg by its contact form.
    assert [(leg.tag, leg.text) for leg in legs] == [("Number", "+14155550001"), ("Client", "bob")]
    assert all(query_of(leg.get("url", ""))["call"] == caller.sid for leg in legs)

    # Ann picks up, hears who is calling, presses 1.
    whisper = parse_twiml(await _leg(client, caller, legs[0].get("url", ""), "CA_LEG_ANN"))
    heard = " ".join(says(whisper))
    assert "Support call from Acme Robotics, standard tier" in heard
    assert "about payments and payouts" in heard and "Press 1" in heard
    gather = whisper.find("Gather")
    assert gather is not None and verbs(whisper) == ["Gather", "Say", "Hangup"]
    accepted = await _leg(client, caller, gather.get("action", ""), "CA_LEG_ANN", Digits="1")
    assert verbs(parse_twiml(accepted)) == []  # empty answer: Twilio connects the legs

    clock.advance(timedelta(minutes=5))
    doc = await caller.dial_ends("completed", DialCallSid="CA_LEG_ANN", DialCallDuration="290")
    assert verbs(doc) == ["Hangup"]

    status = await post(
        client,
        "/twilio/status",
        caller.form(CallStatus="completed", CallDuration="330", SequenceNumber="3"),
    )
    assert status.status_code == 204

    call = await _detail(client, admin, caller.sid)
    assert call["account_id"] == account["id"]
    assert call["language"] == "en" and call["topic"] == "payments" and call["team"] == "support-en"
    assert call["outcome"] == "answered" and call["status"] == "completed"
    assert call["answered_by"] == ids["Ann Example"]
    assert call["answered_at"] == "2026-11-20T15:00:00Z" and call["duration"] == 330
    steps = [(p["step"], p["input"]) for p in call["path"]]
    assert steps == [
        ("welcome", None),
        ("choose_language", None),
        ("choose_language", "no input"),
        ("choose_language", "1"),
        ("identify", None),
        ("identify", f"account {account['id']}"),
        ("check_hours", None),
        ("check_hours", "open"),
        ("topic", None),
        ("topic", "1"),
        ("connect", None),
        ("connect", f"support-en: answered by {ids['Ann Example']}"),
    ]
    attempts = {(a["specialist_id"], a["result"]) for a in call["attempts"]}
    assert attempts == {(ids["Ann Example"], "accepted"), (ids["Bob Example"], "canceled")}

    history = await client.get(f"/v1/accounts/{account['id']}/history", headers=admin)
    entries = history.json()["entries"]
    assert entries[0]["kind"] == "call"
    assert entries[0]["call"]["outcome"] == "answered"
    assert entries[0]["call"]["handled_by"] == {
        "specialist_id": ids["Ann Example"],
        "name": "Ann Example",
    }
    assert entries[0]["call"]["duration"] == 330


async def test_an_unknown_caller_types_an_account_number_then_leaves_a_voicemail(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    admin: dict[str, str],
    make_account: Any,
) -> None:
    account = await make_account("Kelp & Co", ["+14155550178"])
    ids = await staff(db, clock.now(), {"support-en": [BOB]})
    caller = Caller(client, sid="CA00000000000000000000000000000002", from_number="+15005550006")

    await caller.dial_in()
    doc = await caller.press("1")
    assert says(doc) == ["Please enter your account number, followed by the pound key."]
    gather = caller.gather
    assert gather.get("finishOnKey") == "#" and gather.get("numDigits") is None
    wrong = "1234567" if account["number"] != "1234567" else "7654321"
    doc = await caller.press(wrong)
    assert says(doc)[0].startswith("Sorry, we didn't recognise an account number.")
    doc = await caller.press(account["number"])
    assert says(doc)[0] == "Welcome back, Kelp & Co."
    assert b"Kelp &amp; Co" in caller.raw  # escaped, not broken XML

    doc = await caller.say("I have a question about my invoice")
    legs = list(doc.find("Dial") or [])
    assert [leg.text for leg in legs] == ["bob"]

    # Bob does not answer; nobody else speaks English on shift: voicemail.
    doc = await caller.dial_ends("no-answer")
    assert verbs(doc) == ["Say", "Record", "Redirect"]
    assert says(doc)[0].startswith("Sorry, no one is available")
    record = doc.find("Record")
    assert record is not None and record.get("transcribe") == "true"
    assert record.get("transcribeCallback", "").endswith("/twilio/transcription")
    assert record.get("recordingStatusCallback", "").endswith("/twilio/recording")

    recording_url = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1"
    doc = await caller.leave_voicemail(recording_url, "17")
    assert says(doc) == [
        "Thank you for your message. We will get back to you as soon as possible. Goodbye."
    ]
    assert verbs(doc) == ["Say", "Hangup"]
    transcript = await post(
        client,
        "/twilio/transcription",
        caller.form(
            TranscriptionStatus="completed",
            TranscriptionText="Hi, this is Kelp and Co about invoice 42.",
            RecordingUrl=recording_url,
        ),
    )
    assert transcript.status_code == 204

    call = await _detail(client, admin, caller.sid)
    assert call["account_id"] == account["id"] and call["topic"] == "billing"
    assert call["outcome"] == "voicemail" and call["answered_by"] is None
    assert call["voicemail"] == {
        "url": recording_url,
        "duration": 17,
        "transcription": "Hi, this is Kelp and Co about invoice 42.",
    }
    assert [(a["specialist_id"], a["result"]) for a in call["attempts"]] == [
        (ids["Bob Example"], "no-answer")
    ]
    inputs = [p["input"] for p in call["path"] if p["input"]]
    assert inputs[:6] == [
        "1",
        "no account found",
        wrong,
        "no account found",
        account["number"],
        f"account {account['id']}",
    ]
    assert "said: I have a question about my invoice" in inputs
    assert f"recording {recording_url} (17 s)" in inputs


async def test_a_japanese_caller_overflows_to_english_support_then_voicemail(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    admin: dict[str, str],
) -> None:
    # support-ja exists but nobody is on shift; in support-en only Ken speaks Japanese.
    ids = await staff(db, clock.now(), {"support-ja": [], "support-en": [ANN, KEN]})
    caller = Caller(client, sid="CA00000000000000000000000000000003", from_number="+81312345678")

    await caller.dial_in()
    doc = await caller.press("2")  # 日本語
    assert says(doc) == ["アカウント番号を入力し、最後にシャープを押してください。"]
    assert say_languages(doc) == {"ja-JP"}
    doc = await caller.stay_silent()
    doc = await caller.stay_silent()  # one retry, then on as unknown
    assert says(doc)[0].startswith("アカウントを確認できませんでしたが")
    assert caller.gather.get("language") == "ja-JP"
    doc = await caller.press("3")
    assert say_languages(doc) == {"ja-JP"}
    legs = list(doc.find("Dial") or [])
    assert [(leg.tag, leg.text) for leg in legs] == [("Sip", "sip:ken@pbx.example.com")]

    doc = await caller.dial_ends("busy")
    assert say_languages(doc) == {"ja-JP"}
    assert says(doc)[0].startswith("申し訳ありません。ただいま電話に出られる担当者がおりません。")
    record = doc.find("Record")
    assert record is not None
    # Twilio transcribes English only: a Japanese voicemail is kept without a transcript.
    assert record.get("transcribe") == "false"
    assert record.get("transcribeCallback") is None
    doc = await caller.leave_voicemail("https://api.twilio.com/recordings/RE2", "30")
    assert verbs(doc) == ["Say", "Hangup"]

    call = await _detail(client, admin, caller.sid)
    assert call["language"] == "ja" and call["topic"] == "developers"
    assert call["account_id"] is None and call["outcome"] == "voicemail"
    assert [(a["specialist_id"], a["team"], a["result"]) for a in call["attempts"]] == [
        (ids["Ken Example"], "support-en", "busy")
    ]
    connect = [p["input"] for p in call["path"] if p["step"] == "connect" and p["input"]]
    # Busy: the next batch of support-en, but nobody else there speaks Japanese.
    assert connect == [
        "support-ja: nobody_available",
        "support-en: busy",
        "support-en: nobody_available",
    ]


async def test_overflow_to_a_team_that_does_not_serve_the_language_still_reaches_someone(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    admin: dict[str, str],
) -> None:
    # support-en serves English only and nobody there speaks Japanese: the overflow exists
    # to reach a person, so its English speakers are rung rather than going to voicemail.
    from sqlalchemy import update

    from app.models.rota import Team

    await staff(db, clock.now(), {"support-ja": [], "support-en": [ANN]})
    async with db.transaction() as session:
        await session.execute(
            update(Team).where(Team.slug == "support-en").values(languages=["en"])
        )
    caller = Caller(client, sid="CA00000000000000000000000000000009", from_number="+81312345678")
    await caller.dial_in()
    await caller.press("2")  # 日本語
    await caller.stay_silent()
    await caller.stay_silent()  # unknown caller
    doc = await caller.press("1")
    legs = list(doc.find("Dial") or [])
    assert [(leg.tag, (leg.text or "").strip()) for leg in legs] == [("Number", "+14155550001")]
    call = await _detail(client, admin, caller.sid)
    assert [a["team"] for a in call["attempts"]] == ["support-en"]


async def test_with_nobody_on_shift_the_caller_is_not_told_to_hold(
    client: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    await staff(db, clock.now(), {"support-en": []})
    async with db.transaction() as session:  # open around the clock, but nobody on shift
        team = (await session.scalars(select(Team).where(Team.slug == "support-en"))).one()
        team.coverage = [{"days": list(WEEKDAYS), "start": "00:00", "end": "00:00", "min_staff": 1}]
    caller = Caller(client, sid="CA0000000000000000000000000000000B", from_number="+14155550123")
    await caller.dial_in()
    await caller.press("1")  # English
    await caller.stay_silent()
    await caller.stay_silent()  # unknown caller
    doc = await caller.press("2")
    spoken = " ".join(says(doc))
    assert "Please hold" not in spoken
    assert spoken.startswith("Sorry, no one is available")
    assert doc.find("Record") is not None


GRETA = Person("Greta Example", "+4930555000001", ["de"], [])


async def test_a_paid_caller_overflows_to_their_language_team_before_english(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    admin: dict[str, str],
    make_account: Any,
) -> None:
    """Paid team first, then the team of the caller's language, then English (issue 12.7)."""
    await make_account("Kunde GmbH", ["+49 30 5550 1234"], tier="paid")
    ids = await staff(
        db, clock.now(), {"paid-support": [], "support-de": [GRETA], "support-en": [ANN]}
    )
    caller = Caller(client, sid="CA00000000000000000000000000000712", from_number="+493055501234")
    await caller.dial_in()
    doc = await caller.press("4")  # Deutsch
    assert says(doc)[0] == "Willkommen zurück, Kunde GmbH."
    doc = await caller.press("1")
    legs = list(doc.find("Dial") or [])
    assert [(leg.tag, leg.text) for leg in legs] == [("Number", GRETA.contact)]

    doc = await caller.dial_ends("no-answer")
    legs = list(doc.find("Dial") or [])
    assert [(leg.tag, leg.text) for leg in legs] == [("Number", ANN.contact)]
    call = await _detail(client, admin, caller.sid)
    assert [(a["specialist_id"], a["team"]) for a in call["attempts"]] == [
        (ids["Greta Example"], "support-de"),
        (ids["Ann Example"], "support-en"),
    ]
    connect = [p["input"] for p in call["path"] if p["step"] == "connect" and p["input"]]
    assert connect[0] == "paid-support: nobody_available"


async def _stored_path(db: Database, sid: str) -> list[Any]:
    async with db.transaction() as session:
        state = await session.scalar(
            select(CallStateRow.state)
            .join(Call, Call.id == CallStateRow.call_id)
            .where(Call.sid == sid)
        )
    assert isinstance(state, dict)
    path: list[Any] = state["path"]
    return path


async def test_the_path_is_logged_as_rows_and_a_state_stored_with_one_goes_on(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    admin: dict[str, str],
    make_account: Any,
) -> None:
    """The stored state keeps no path (its entries are the call's path rows); a state an
    earlier version stored with its path carries on without logging an entry twice."""
    await make_account("Acme Robotics", ["(415) 555-0100"])
    await staff(db, clock.now(), {"support-en": [ANN]})
    caller = Caller(client, from_number="+14155550100")
    await caller.dial_in()
    assert await _stored_path(db, caller.sid) == []
    # As an earlier version stored it: with the entries already logged as rows.
    logged = [
        {"step": "welcome", "input": None, "at": None},
        {"step": "choose_language", "input": None, "at": None},
    ]
    async with db.transaction() as session:
        row = await session.scalar(
            select(CallStateRow)
            .join(Call, Call.id == CallStateRow.call_id)
            .where(Call.sid == caller.sid)
        )
        assert row is not None
        row.state = {**row.state, "path": logged}
    await caller.press("1")
    assert await _stored_path(db, caller.sid) == []
    await caller.press("1")
    call = await _detail(client, admin, caller.sid)
    steps = [(p["step"], p["input"]) for p in call["path"]]
    assert steps == [
        ("welcome", None),
        ("choose_language", None),
        ("choose_language", "1"),
        ("identify", None),
        ("identify", steps[4][1]),
        ("check_hours", None),
        ("check_hours", "open"),
        ("topic", None),
        ("topic", "1"),
        ("connect", None),
    ]
    assert steps[4][1] is not None and steps[4][1].startswith("account ")
