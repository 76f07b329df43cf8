"""Erasing a caller and scrubbing old call details: API, CLI, the daily job, reports."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.cli import main
from app.core.clock import FixedClock
from app.core.db import Database
from app.models.call import Call, CallStateRow
from app.models.console import ConsoleEvent
from app.models.jobs import DailyJobRun
from app.privacy.jobs import RETENTION_JOB, run_daily
from tests.conftest import Keys
from tests.telephony.rota_rows import Person, staff
from tests.telephony.twilio import Caller, post

BOB = Person("Bob Example", "client:bob", ["en"], ["billing"])
KELP_PHONE = "+14155550178"
OTHER_PHONE = "+14155550199"
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE"


async def voicemail_call(
    client: httpx.AsyncClient, sid: str, from_number: str, *, transcript: str
) -> None:
    """A caller recognised by caller ID (or not) who leaves a voicemail, then hangs up."""
    caller = Caller(client, sid=sid, from_number=from_number)
    await caller.dial_in()
    await caller.press("1")
    if (
        caller.doc is not None
        and caller.doc.find("Gather") is not None
        and ("account number" in " ".join(caller.heard[-1:]))
    ):
        await caller.stay_silent()
        await caller.stay_silent()
    await caller.say("I have a question about my invoice")
    await caller.dial_ends("no-answer")
    await caller.leave_voicemail(RECORDING + sid[-4:], "17")
    answer = await post(
        client,
        "/twilio/transcription",
        caller.form(
            TranscriptionStatus="completed",
            TranscriptionText=transcript,
            RecordingUrl=RECORDING + sid[-4:],
        ),
    )
    assert answer.status_code == 204
    done = await post(
        client, "/twilio/status", caller.form(CallStatus="completed", CallDuration="60")
    )
    assert done.status_code == 204


async def detail(client: httpx.AsyncClient, admin: dict[str, str], sid: str) -> dict[str, Any]:
    answer = await client.get(f"/v1/calls/{sid}", headers=admin)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def summary(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, Any]:
    params = {"start": "2026-11-01", "end": "2026-12-01"}
    answer = await client.get("/v1/reports/summary", params=params, headers=admin)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()["total"]
    return body


@pytest.fixture
async def two_callers(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, admin: dict[str, str]
) -> dict[str, Any]:
    """Kelp & Co (two voicemails, a note, a completed work item) and another caller."""
    await staff(db, clock.now(), {"support-en": [BOB]})
    kelp = await client.post(
        "/v1/accounts",
        json={"name": "Kelp & Co", "tier": "standard", "phones": [KELP_PHONE]},
        headers=admin,
    )
    assert kelp.status_code == 201
    account = kelp.json()
    note = await client.post(
        f"/v1/accounts/{account['id']}/notes", json={"body": "Prefers email."}, headers=admin
    )
    assert note.status_code == 201
    await voicemail_call(
        client,
        "CA000000000000000000000000000000K1",
        KELP_PHONE,
        transcript="Hi, Kelp here, invoice 42.",
    )
    await voicemail_call(
        client, "CA000000000000000000000000000000K2", KELP_PHONE, transcript="Kelp again."
    )
    await voicemail_call(
        client, "CA000000000000000000000000000000O1", OTHER_PHONE, transcript="Someone else."
    )
    items = (await client.get("/v1/callbacks", headers=admin)).json()["items"]
    kelp_item = next(i for i in items if i["call"]["sid"].endswith("K1"))
    completed = await client.post(
        f"/v1/callbacks/{kelp_item['id']}/complete",
        json={"outcome": "resolved", "note": "Called Kelp back about invoice 42."},
        headers=admin,
    )
    assert completed.status_code == 200, completed.text
    return account


async def test_erase_removes_the_account_and_scrubs_its_calls_but_reports_still_count_them(
    client: httpx.AsyncClient, admin: dict[str, str], db: Database, two_callers: dict[str, Any]
) -> None:
    account = two_callers
    before = await summary(client, admin)
    kelp_call = await detail(client, admin, "CA000000000000000000000000000000K1")
    assert kelp_call["from_number"] == KELP_PHONE and kelp_call["voicemail"] is not None

    erased = await client.post(f"/v1/accounts/{account['id']}:erase", headers=admin)
    assert erased.status_code == 200, erased.text
    assert erased.json() == {
        "accounts": [account["id"]],
        "phones_removed": 1,
        "notes_removed": 2,  # the note, and the work item's note copied to the history
        "calls_scrubbed": 2,
    }
    assert (await client.get(f"/v1/accounts/{account['id']}", headers=admin)).status_code == 404
    lookup = await client.get("/v1/accounts/lookup", params={"phone": KELP_PHONE}, headers=admin)
    assert lookup.json() == []
    for sid in ("CA000000000000000000000000000000K1", "CA000000000000000000000000000000K2"):
        call = await detail(client, admin, sid)
        assert call["from_number"] == "" and call["account_id"] is None
        assert call["voicemail"] is None and call["callback_number"] is None
        assert call["outcome"] == "voicemail" and call["topic"] == "billing"
        said = [p["input"] for p in call["path"] if p["input"]]
        assert not any("invoice" in s or "recording" in s or "account " in s for s in said)
        assert "1" in said  # menu keys stay: the path still shows the way through
    items = (await client.get("/v1/callbacks?status=done", headers=admin)).json()["items"]
    kelp_item = next(i for i in items if i["call"]["sid"].endswith("K1"))
    assert kelp_item["note"] is None and kelp_item["number"] is None
    other = await detail(client, admin, "CA000000000000000000000000000000O1")
    assert other["from_number"] == OTHER_PHONE and other["voicemail"]["transcription"]
    async with db.transaction() as session:
        states = await session.scalar(select(func.count()).select_from(CallStateRow))
        events = set(await session.scalars(select(ConsoleEvent.call_id)))
        calls = dict((await session.execute(select(Call.sid, Call.id))).all())
    assert states == 1  # only the other caller's
    # Live-console events (the screen pop repeats the caller) go with the details.
    assert events == {calls["CA000000000000000000000000000000O1"]}
    assert await summary(client, admin) == before  # anonymous figures stay

    audit = await client.get("/v1/audit", params={"resource_type": "account"}, headers=admin)
    entry = audit.json()["items"][0]
    assert entry["action"] == "erase" and entry["resource_id"] == str(account["id"])
    assert KELP_PHONE not in str(entry) and "Kelp" not in str(entry)
    again = await client.post(f"/v1/accounts/{account['id']}:erase", headers=admin)
    assert again.status_code == 404
    assert again.headers["content-type"] == "application/problem+json"


async def test_only_admins_erase(
    client: httpx.AsyncClient, keys: Keys, two_callers: dict[str, Any]
) -> None:
    for role in ("scheduler", "specialist", "viewer"):
        headers = await keys.headers(role)
        refused = await client.post(f"/v1/accounts/{two_callers['id']}:erase", headers=headers)
        assert refused.status_code == 403


async def test_delete_leaves_call_details_where_erase_does_not(
    client: httpx.AsyncClient, admin: dict[str, str], two_callers: dict[str, Any]
) -> None:
    deleted = await client.delete(f"/v1/accounts/{two_callers['id']}", headers=admin)
    assert deleted.status_code == 204
    call = await detail(client, admin, "CA000000000000000000000000000000K1")
    assert call["from_number"] == KELP_PHONE and call["voicemail"]["url"]
    assert call["account_id"] is None


async def test_retention_job_scrubs_old_calls_once_a_day_and_purge_on_demand(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    db: Database,
    clock: FixedClock,
    two_callers: dict[str, Any],
) -> None:
    before = await summary(client, admin)
    clock.advance(timedelta(days=10))
    assert await run_daily(db, clock, 30) == 0  # nothing that old yet
    assert await run_daily(db, clock, 5) is None  # today's run is done: no second run
    clock.advance(timedelta(days=1))
    # Several instances wake at once: exactly one does the work.
    results = await asyncio.gather(*(run_daily(db, clock, 5) for _ in range(3)))
    assert sorted(results, key=str) == [3, None, None]
    async with db.transaction() as session:
        runs = list(await session.scalars(select(DailyJobRun).order_by(DailyJobRun.day)))
        scrubbed = await session.scalar(select(func.count()).where(Call.scrubbed_at.is_not(None)))
    assert [(r.job, r.affected) for r in runs] == [(RETENTION_JOB, 0), (RETENTION_JOB, 3)]
    assert scrubbed == 3
    call = await detail(client, admin, "CA000000000000000000000000000000O1")
    assert call["from_number"] == "" and call["voicemail"] is None
    # The account and its notes stay: retention scrubs calls, it does not erase callers.
    assert (await client.get(f"/v1/accounts/{two_callers['id']}", headers=admin)).status_code == 200
    assert await summary(client, admin) == before


def test_erase_and_purge_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["migrate"]) == 0
    assert main(["erase", "--account", "9"]) == 1
    assert "account 9 does not exist" in capsys.readouterr().err
    assert main(["erase", "--phone", "not a number"]) == 2
    assert main(["erase", "--phone", "(415) 555-0178"]) == 0
    out = capsys.readouterr().out
    assert "erased accounts: none; phones removed: 0; notes removed: 0; calls scrubbed: 0" in out
    assert main(["purge"]) == 2
    assert "CALL_DETAIL_RETENTION_DAYS" in capsys.readouterr().err
    monkeypatch.setenv("CALL_DETAIL_RETENTION_DAYS", "30")
    assert main(["purge"]) == 0
    assert "scrubbed the details of 0 call(s) older than 30 day(s)" in capsys.readouterr().out
