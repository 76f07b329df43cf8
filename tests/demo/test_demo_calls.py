"""`switchboard demo-calls`: realistic traffic through the signed webhooks, over past days."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli import main as switchboard
from app.config import Settings
from app.core.clock import FixedClock
from app.core.db import Database
from app.demo.run import drive_demo_calls
from app.seed import seed_all
from tests.conftest import NOW


async def _all(client: httpx.AsyncClient, h: dict[str, str], path: str, **params: str) -> list[Any]:
    items: list[Any] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": "200", **({"cursor": cursor} if cursor else {})}
        r = await client.get(path, params=query, headers=h)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return items


async def test_demo_calls_fill_the_call_log_work_list_and_reports(
    settings: Settings,
    db: Database,
    clock: FixedClock,
    client: httpx.AsyncClient,
    admin: dict[str, str],
) -> None:
    async with db.transaction() as session:
        await seed_all(session, clock)
    result = await drive_demo_calls(settings, count=120, days=5, now=NOW, seed=14)
    assert result.calls >= 120
    outcomes = result.outcomes
    for kind in (
        "answered",
        "abandoned in the IVR",
        "abandoned in the queue",
        "voicemails",
        "callback requests",
    ):
        assert outcomes[kind] >= 1, (kind, outcomes)
    assert result.webhooks > 5 * result.calls

    calls = await _all(client, admin, "/v1/calls")
    assert len(calls) == result.calls
    assert all(c["status"] == "completed" for c in calls)
    logged = {c["outcome"] for c in calls}
    assert {"answered", "abandoned", "voicemail"} <= logged, logged
    answered = [c for c in calls if c["outcome"] == "answered"]
    assert len(answered) == outcomes["answered"]
    assert all(c["answered_by"] and c["duration"] for c in answered)
    assert len({c["language"] for c in calls} - {None}) >= 4
    assert {"paid-support", "support-en"} <= {c["team"] for c in calls}
    # Spread over the past days, never in the future.
    days = {c["started_at"][:10] for c in calls}
    assert len(days) >= 3, days
    assert max(c["started_at"] for c in calls) < NOW.isoformat()
    assert min(c["started_at"] for c in calls) >= (NOW - timedelta(days=6)).isoformat()

    work = await _all(client, admin, "/v1/callbacks")
    kinds = [w["kind"] for w in work]
    assert kinds.count("voicemail") == outcomes["voicemails"]
    assert kinds.count("callback") == outcomes["callback requests"]
    for item in (w for w in work if w["kind"] == "voicemail"):
        call = (await client.get(f"/v1/calls/{item['call']['sid']}", headers=admin)).json()
        assert call["voicemail"]["url"].startswith("https://api.twilio.com/")
        # Twilio transcribes English recordings only.
        assert bool(call["voicemail"]["transcription"]) == (call["language"] == "en"), call

    start = (NOW - timedelta(days=7)).date().isoformat()
    end = (NOW + timedelta(days=1)).date().isoformat()
    r = await client.get(
        "/v1/reports/summary",
        params={"start": start, "end": end, "group_by": "team"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert sum(g["offered"] for g in report["groups"]) == result.calls
    assert sum(g["answered"] for g in report["groups"]) == outcomes["answered"]


async def test_the_same_seed_drives_the_same_calls(
    settings: Settings,
    db: Database,
    clock: FixedClock,
    client: httpx.AsyncClient,
    admin: dict[str, str],
) -> None:
    async with db.transaction() as session:
        await seed_all(session, clock)
    first = await drive_demo_calls(settings, count=8, days=2, now=NOW, seed=3)
    second = await drive_demo_calls(settings, count=8, days=2, now=NOW, seed=3)
    assert (first.calls, first.outcomes, first.first) == (
        second.calls,
        second.outcomes,
        second.first,
    )
    assert len(await _all(client, admin, "/v1/calls")) == 2 * first.calls


def test_cli_demo_calls_needs_the_demo_data_and_runs_once_with_if_new(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    assert switchboard(["demo-calls", "--count", "3"]) == 1
    assert "switchboard seed" in capsys.readouterr().err
    assert switchboard(["demo-calls", "--if-new"]) == 0
    assert switchboard(["demo-calls", "--count", "0"]) == 2
    assert switchboard(["seed"]) == 0
    capsys.readouterr()
    assert (
        switchboard(["demo-calls", "--if-new", "--count", "4", "--days", "2", "--seed", "1"]) == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("drove ") and "signed webhooks" in out
    assert switchboard(["demo-calls", "--if-new"]) == 0
    assert "already has calls" in capsys.readouterr().out
