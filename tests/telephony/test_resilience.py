"""A caller never hears an application error; repeated and concurrent webhooks are safe."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any, NoReturn

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.config import Settings
from app.core.clock import FixedClock
from app.core.db import Database
from app.main import create_app
from app.models.call import Call, CallStep
from app.telephony import driver, resolve
from tests.telephony.rota_rows import Person, staff
from tests.telephony.twilio import Caller, local_path, parse_twiml, post, says, verbs

UNREACHABLE = "postgresql+asyncpg://nobody@127.0.0.1:1/switchboard"
FALLBACK = "+14155550199"


async def _count(db: Database, table: Any) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def _database_goes_down(app: FastAPI) -> Database:
    """Dispose the app's engine and point it at a PostgreSQL nobody listens on."""
    await app.state.db.dispose()
    app.state.db = Database.from_url(UNREACHABLE)
    broken: Database = app.state.db
    return broken


async def test_the_database_failing_mid_call_gives_an_apology_and_voicemail(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caller = Caller(client, sid="CA0000000000000000000000000000000F")
    await caller.dial_in()
    await caller.press("2")  # Japanese
    broken = await _database_goes_down(app)
    try:
        with caplog.at_level(logging.ERROR, logger="switchboard.telephony"):
            doc = await caller.press("1234567")
        assert verbs(doc) == ["Say", "Record", "Say", "Hangup"]
        assert says(doc)[0].startswith("申し訳ありません。システムに問題が発生しました。")
        assert {el.get("language") for el in doc.iter("Say")} == {"ja-JP"}
        record = doc.find("Record")
        assert record is not None and "/twilio/fallback/recorded?lang=ja" in record.get(
            "action", ""
        )
        failures = [
            r
            for r in caplog.records
            if r.name == "switchboard.telephony"
            and r.levelno == logging.ERROR
            and getattr(r, "call_sid", None) == caller.sid
        ]
        assert failures and failures[0].exc_info is not None

        # The fallback voicemail's action answers without the database too.
        goodbye = parse_twiml(
            await post(client, local_path(record.get("action", "")), caller.form())
        )
        assert verbs(goodbye) == ["Say", "Hangup"]
        assert says(goodbye)[0].startswith("ありがとうございました。")
        # A brand-new call while the database is down: apology in the flow's language.
        doc = await Caller(client, sid="CA0000000000000000000000000000000E").dial_in()
        assert says(doc)[0].startswith("We're sorry, something went wrong on our side.")
    finally:
        await broken.dispose()


@pytest.fixture
async def fallback_app(settings: Settings, clock: FixedClock) -> AsyncIterator[FastAPI]:
    """The app with FALLBACK_NUMBER set."""
    application = create_app(settings.model_copy(update={"fallback_number": FALLBACK}), clock=clock)
    async with application.router.lifespan_context(application):
        yield application


async def test_with_a_fallback_number_the_caller_is_put_through_to_it(
    fallback_app: FastAPI,
) -> None:
    transport = httpx.ASGITransport(app=fallback_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        caller = Caller(client, sid="CA0000000000000000000000000000000D")
        await caller.dial_in()
        broken = await _database_goes_down(fallback_app)
        try:
            doc = await caller.press("4")
        finally:
            await broken.dispose()
    assert verbs(doc) == ["Say", "Dial"]
    assert says(doc) == [
        "We're sorry, something went wrong on our side. Please hold while we put you through."
    ]
    dial = doc.find("Dial")
    assert dial is not None and dial.text == FALLBACK


async def test_a_failing_lookup_rolls_back_and_apologises(
    client: httpx.AsyncClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def boom(*_: object, **__: object) -> NoReturn:
        raise RuntimeError("accounts table on fire")

    # Caller ID's lookup, whether it reads the accounts or was given them with the call.
    monkeypatch.setattr(resolve, "lookup_account", boom)
    caller = Caller(client, sid="CA0000000000000000000000000000000C")
    await caller.dial_in()
    doc = await caller.press("1")  # English; the caller-ID lookup fails
    assert says(doc)[0].startswith("We're sorry, something went wrong on our side.")
    assert doc.find("Record") is not None
    # The failed webhook wrote nothing: the path stops before the language choice.
    async with db.transaction() as session:
        steps = (await session.scalars(select(CallStep.input))).all()
    assert "1" not in steps


async def test_a_slow_database_is_cut_short(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def slow(*_: object, **__: object) -> list[object]:
        await asyncio.sleep(5)
        return []

    monkeypatch.setattr(resolve, "lookup_account", slow)
    caller = Caller(client, sid="CA0000000000000000000000000000000B")
    await caller.dial_in()
    # The deadline only from here: on a loaded machine the first webhook may take longer.
    monkeypatch.setattr(driver, "VOICE_DEADLINE_SECONDS", 0.2)
    doc = await caller.press("1")
    assert says(doc)[0].startswith("We're sorry, something went wrong on our side.")


async def test_a_callback_for_an_unknown_call_gets_the_fallback(
    client: httpx.AsyncClient, db: Database
) -> None:
    caller = Caller(client, sid="CA0000000000000000000000000000000A")
    answer = await post(client, "/twilio/gather?v=3&lang=fr&step=topic", caller.form(Digits="1"))
    doc = parse_twiml(answer)
    assert says(doc)[0].startswith("Nous sommes désolés, un problème technique est survenu.")
    assert await _count(db, Call) == 0


async def test_a_repeated_webhook_gets_the_same_answer_and_is_logged_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    caller = Caller(client, sid="CA00000000000000000000000000000010")
    first = await caller.dial_in()
    again = await caller.dial_in()  # Twilio retried the first webhook
    assert caller.heard[: len(says(first))] == says(again)
    url = local_path(caller.gather.get("action", ""))
    answers = [await post(client, url, caller.form(Digits="3")) for _ in range(2)]
    assert answers[0].content == answers[1].content
    # Stale URLs (an older version) replay the latest answer instead of advancing.
    stale = await post(client, url.replace("v=1", "v=0"), caller.form(Digits="4"))
    assert stale.content == answers[0].content
    async with db.transaction() as session:
        inputs = (await session.scalars(select(CallStep.input).order_by(CallStep.seq))).all()
    assert inputs.count("3") == 1 and "4" not in inputs


async def test_concurrent_copies_of_a_webhook_advance_the_call_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    caller = Caller(client, sid="CA00000000000000000000000000000011")
    await caller.dial_in()
    url = local_path(caller.gather.get("action", ""))
    answers = await asyncio.gather(*(post(client, url, caller.form(Digits="1")) for _ in range(3)))
    assert len({a.content for a in answers}) == 1
    assert all(parse_twiml(a).find("Gather") is not None for a in answers)
    async with db.transaction() as session:
        inputs = (await session.scalars(select(CallStep.input))).all()
    assert inputs.count("1") == 1


async def test_a_garbled_callback_url_is_still_answered(client: httpx.AsyncClient) -> None:
    caller = Caller(client, sid="CA00000000000000000000000000000012")
    await caller.dial_in()
    doc = parse_twiml(await post(client, "/twilio/gather?v=x&lang=", caller.form(Digits="1")))
    assert doc.find("Gather") is not None  # English chosen, account number asked


async def test_a_caller_hanging_up_while_ringing_rings_nobody_else(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, admin: dict[str, str]
) -> None:
    await staff(
        db,
        clock.now(),
        {"support-en": [Person(f"P{i}", f"+1415555010{i}", ["en"]) for i in range(1, 5)]},
    )
    caller = Caller(client, sid="CA00000000000000000000000000000013", from_number="+15005550006")
    await caller.dial_in()
    await caller.press("1")
    await caller.stay_silent()
    await caller.stay_silent()
    doc = await caller.press("0")
    assert len(list(doc.find("Dial") or [])) == 2  # the batch size of the flow's route
    # The caller hangs up: Twilio still posts the Dial action, with CallStatus completed.
    doc = await caller.dial_ends("no-answer", CallStatus="completed")
    assert verbs(doc) == ["Hangup"]
    call = (await client.get(f"/v1/calls/{caller.sid}", headers=admin)).json()
    assert [a["result"] for a in call["attempts"]] == ["no-answer", "no-answer"]
    assert call["outcome"] == "abandoned"


async def test_a_declined_whisper_rings_the_next_batch(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, admin: dict[str, str]
) -> None:
    ids = await staff(
        db,
        clock.now(),
        {"support-en": [Person(f"P{i}", f"+1415555010{i}", ["en"]) for i in range(1, 4)]},
    )
    caller = Caller(client, sid="CA00000000000000000000000000000014", from_number="+15005550006")
    await caller.dial_in()
    await caller.press("1")
    await caller.stay_silent()
    await caller.stay_silent()
    doc = await caller.press("2")
    first_leg = next(iter(doc.find("Dial") or []))
    leg_form = {"CallSid": "CA_LEG_1", "ParentCallSid": caller.sid, "CallStatus": "in-progress"}
    whisper = parse_twiml(await post(client, local_path(first_leg.get("url", "")), leg_form))
    assert "an unidentified caller" in says(whisper)[0]
    action = whisper.find("Gather")
    assert action is not None
    declined = await post(client, local_path(action.get("action", "")), {**leg_form, "Digits": "9"})
    assert verbs(parse_twiml(declined)) == ["Hangup"]
    leg_done = await post(
        client,
        local_path(first_leg.get("statusCallback", "")),
        {**leg_form, "CallStatus": "completed"},
    )
    assert leg_done.status_code == 204
    doc = await caller.dial_ends("completed", DialCallSid="CA_LEG_1", DialCallDuration="4")
    assert [leg.text for leg in doc.find("Dial") or []] == ["+14155550103"]
    call = (await client.get(f"/v1/calls/{caller.sid}", headers=admin)).json()
    assert [(a["specialist_id"], a["batch"], a["result"]) for a in call["attempts"]] == [
        (ids["P1"], 1, "declined"),
        (ids["P2"], 1, "canceled"),
        (ids["P3"], 2, "ringing"),
    ]
    assert call["answered_by"] is None and call["outcome"] is None


async def test_numbers_too_large_to_store_are_ignored_not_a_failure(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    huge = "9" * 25  # overflows a database INTEGER
    caller = Caller(client, sid="CA00000000000000000000000000000015", from_number="+15005550006")
    await caller.dial_in()
    await caller.press("1")
    await caller.stay_silent()
    await caller.stay_silent()  # no teams: the line is closed, straight to voicemail
    doc = await caller.leave_voicemail("https://api.twilio.com/recordings/RE9", huge)
    assert says(doc) == [
        "Thank you for your message. We will get back to you as soon as possible. Goodbye."
    ]
    leg = await post(client, f"/twilio/leg?call={caller.sid}&attempt={huge}", caller.form())
    recording = await post(
        client,
        "/twilio/recording",
        caller.form(RecordingUrl="https://api.twilio.com/recordings/RE9", RecordingDuration=huge),
    )
    status = await post(
        client,
        "/twilio/status",
        caller.form(CallStatus="completed", SequenceNumber=huge, CallDuration=huge),
    )
    assert [leg.status_code, recording.status_code, status.status_code] == [204, 204, 204]
    call = (await client.get(f"/v1/calls/{caller.sid}", headers=admin)).json()
    assert call["status"] == "completed" and call["duration"] is None
    assert call["outcome"] == "voicemail"
    assert call["voicemail"]["url"] == "https://api.twilio.com/recordings/RE9"


async def test_a_fallback_voicemail_reaches_the_call_log_when_the_database_is_back(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    # The call's webhooks failed, so it has no record; the fallback voicemail's callbacks
    # arrive once the database answers again.
    caller = Caller(client, sid="CA00000000000000000000000000000016")
    url = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE16"
    recording = await post(
        client,
        "/twilio/recording",
        {
            "CallSid": caller.sid,
            "AccountSid": "AC00000000000000000000000000000000",
            "RecordingUrl": url,
            "RecordingStatus": "completed",
            "RecordingDuration": "21",
        },
    )
    transcription = await post(
        client,
        "/twilio/transcription",
        caller.form(
            CallStatus="completed",
            TranscriptionStatus="completed",
            TranscriptionText="Please call me back.",
            RecordingUrl=url,
        ),
    )
    assert [recording.status_code, transcription.status_code] == [204, 204]
    call = (await client.get(f"/v1/calls/{caller.sid}", headers=admin)).json()
    assert call["outcome"] == "voicemail"
    assert call["voicemail"] == {
        "url": url,
        "duration": 21,
        "transcription": "Please call me back.",
    }
    assert call["from_number"] == caller.from_number
