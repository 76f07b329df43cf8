"""Step kinds the support line does not use: hours, callback and transfer, over webhooks."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.core.clock import FixedClock
from app.core.db import Database
from app.main import create_app
from app.models.rota import Team
from tests.telephony.twilio import Caller, says, verbs

DESK = """\
name: desk
numbers: ["+18005550111"]
default: true
languages:
  en: Polly.Joanna
start: office_hours
steps:
  office_hours:
    kind: hours
    team: desk
    open: menu
    closed: after_hours
  after_hours:
    kind: say
    prompt: We are closed.
    next: callback
  callback:
    kind: callback
    prompt: To be called back on {caller_number}, press 1. Or type another number, then pound.
    done_prompt: We will call you back on {callback_number}.
    next: goodbye
  menu:
    kind: menu
    prompt: For our partner, press 1.
    options:
      1: partner
    fallback: goodbye
  partner:
    kind: transfer
    number: "+442071838750"
    prompt: Transferring you.
    fallback: goodbye
  goodbye:
    kind: hangup
    prompt: Goodbye.
"""


@pytest.fixture
async def desk_app(
    settings: Settings, clock: FixedClock, db: Database, tmp_path: Path
) -> AsyncIterator[FastAPI]:
    """The app answering with the desk flow; team `desk` is open Mon-Fri 09-17 UTC."""
    now = clock.now()
    async with db.transaction() as session:
        session.add(
            Team(
                slug="desk",
                name="Desk",
                tz="UTC",
                languages=["en"],
                coverage=[
                    {
                        "days": ["mon", "tue", "wed", "thu", "fri"],
                        "start": "09:00",
                        "end": "17:00",
                        "min_staff": 0,
                    }
                ],
                calendar_token=secrets.token_urlsafe(16),
                created_at=now,
                updated_at=now,
            )
        )
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "desk.yaml").write_text(DESK, encoding="utf-8")
    application = create_app(settings.model_copy(update={"flows_dir": folder}), clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def desk(desk_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=desk_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def _call(client: httpx.AsyncClient, admin: dict[str, str], sid: str) -> Any:
    return (await client.get(f"/v1/calls/{sid}", headers=admin)).json()


async def test_open_hours_lead_to_a_transfer(
    desk: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    caller = Caller(desk, to_number="+18005550111")
    doc = await caller.dial_in()  # Friday 15:00 UTC: open
    assert says(doc) == ["For our partner, press 1."]
    doc = await caller.press("1")
    assert verbs(doc) == ["Say", "Dial"]
    dial = doc.find("Dial")
    assert dial is not None and "/twilio/transfer?" in dial.get("action", "")
    assert [n.text for n in dial] == ["+442071838750"]
    doc = await caller.dial_ends("completed", DialCallDuration="60")
    assert verbs(doc) == ["Hangup"]
    call = await _call(desk, admin, caller.sid)
    assert call["outcome"] == "transferred" and call["flow"] == "desk"
    assert ("office_hours", "open") in [(p["step"], p["input"]) for p in call["path"]]


async def test_a_transfer_nobody_answers_goes_to_the_fallback(desk: httpx.AsyncClient) -> None:
    caller = Caller(desk, to_number="+18005550111")
    await caller.dial_in()
    await caller.press("1")
    doc = await caller.dial_ends("no-answer")
    assert says(doc) == ["Goodbye."] and verbs(doc) == ["Say", "Hangup"]


async def test_after_hours_the_caller_asks_for_a_callback(
    desk: httpx.AsyncClient, clock: FixedClock, admin: dict[str, str]
) -> None:
    clock.advance(timedelta(days=1))  # Saturday: closed
    caller = Caller(desk, to_number="+18005550111", from_number="+14155550123")
    doc = await caller.dial_in()
    assert says(doc) == [
        "We are closed.",
        "To be called back on 1 4 1 5 5 5 5 0 1 2 3, press 1. Or type another number, then pound.",
    ]
    doc = await caller.press("1")
    assert says(doc) == ["We will call you back on 1 4 1 5 5 5 5 0 1 2 3.", "Goodbye."]
    call = await _call(desk, admin, caller.sid)
    assert call["callback_number"] == "+14155550123" and call["outcome"] == "callback"
