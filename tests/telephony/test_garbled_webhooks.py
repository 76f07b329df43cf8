"""Garbled webhook fields: a NUL reads as input the menu does not understand, an overlong
CallSid is ignored; neither is a database error nor the apology (issue 12.3)."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from app.core.db import Database
from app.models.call import Call
from tests.telephony.twilio import SORRY, Caller, post, says


async def test_a_nul_in_the_digits_gets_the_menus_retry_prompt(client: httpx.AsyncClient) -> None:
    caller = Caller(client, sid="CA000000000000000000000000000000A1")
    await caller.dial_in()
    doc = await caller.press("1\x00")
    heard = says(doc)
    assert not heard[0].startswith(SORRY), heard
    assert heard[0] == "Sorry, we didn't get that.", heard
    assert doc.find("Gather") is not None


async def test_a_nul_in_speech_or_the_caller_id_is_not_a_failure(
    client: httpx.AsyncClient,
) -> None:
    caller = Caller(client, sid="CA000000000000000000000000000000A2", from_number="+1415\x00555")
    doc = await caller.dial_in()
    assert not says(doc)[0].startswith(SORRY), says(doc)
    doc = await caller.say("Eng\x00lish")
    assert not says(doc)[0].startswith(SORRY), says(doc)


async def test_an_overlong_call_sid_on_a_callback_is_ignored(
    client: httpx.AsyncClient, db: Database
) -> None:
    sid = "CA" + "0" * 200
    form = {"CallSid": sid, "CallStatus": "completed", "From": "+14155550100", "To": "+1800"}
    for path in ("/twilio/status", "/twilio/recording", "/twilio/transcription"):
        extra = {"RecordingUrl": "https://api.twilio.com/r/RE1", "TranscriptionText": "hi"}
        answer = await post(client, path, {**form, **extra})
        assert answer.status_code == 204, (path, answer.text)
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Call)) == 0
