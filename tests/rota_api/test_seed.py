"""`switchboard seed` loads a demo rota that answers through the API, and only once."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from app.cli import main as switchboard
from app.core.clock import FixedClock
from app.core.db import Database
from app.rota.seed_data import DEMO_SPECIALISTS
from app.seed import SeedSummary, database_is_empty, seed_all
from tests.conftest import NOW, Keys

TEAMS = {
    "support-en": "America/Los_Angeles",
    "support-ja": "Asia/Tokyo",
    "support-fr": "Europe/Paris",
    "support-de": "Europe/Berlin",
    "paid-support": "Europe/Dublin",
    "support-es": "America/Mexico_City",
    "support-uk": "Europe/London",
    "support-sg": "Asia/Singapore",
    "support-au": "Australia/Sydney",
}
# The seed's summary: the weekend rotas of the two teams open at weekends come from the planner.
PLANNED = (
    r"11 accounts, 9 teams, 33 specialists, 14 rotations; weekend rotas planned: "
    r"support-en (optimal|feasible) in [0-9.]+ s, applied, "
    r"paid-support (optimal|feasible) in [0-9.]+ s, applied"
)
# NOW is Friday 2026-11-20: the next Tuesday is a working day for every team's holidays and
# the Saturday after is in the weeks the demo's planned rota covers (from Monday 2026-10-19).
TUESDAY = date(2026, 11, 24)
SATURDAY = date(2026, 11, 28)


async def _seed(db: Database, clock: FixedClock) -> SeedSummary:
    async with db.transaction() as session:
        return await seed_all(session, clock)


def _local(day: date, at: time, tz: str) -> str:
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz)).isoformat()


async def _on_shift(
    client: httpx.AsyncClient, h: dict[str, str], team: str, at: str
) -> list[dict[str, Any]]:
    r = await client.get("/v1/rota/on-shift", params={"team": team, "at": at}, headers=h)
    assert r.status_code == 200, r.text
    shifts: list[dict[str, Any]] = r.json()["on_shift"]
    return shifts


async def test_seeded_rota_answers(
    client: httpx.AsyncClient, keys: Keys, db: Database, clock: FixedClock
) -> None:
    summary = await _seed(db, clock)
    assert (summary.teams, summary.specialists, summary.rotations) == (9, 33, 14)
    assert re.fullmatch(PLANNED, str(summary)), str(summary)
    h = await keys.headers("scheduler")
    teams = (await client.get("/v1/teams", headers=h)).json()["items"]
    assert {t["slug"]: t["time_zone"] for t in teams} == TEAMS
    for team, tz in TEAMS.items():
        on = await _on_shift(client, h, team, _local(TUESDAY, time(10), tz))
        assert len(on) >= 1, team
        assert all(s["source"]["kind"] == "rotation" for s in on)
    paid = await _on_shift(
        client, h, "paid-support", _local(TUESDAY, time(14), TEAMS["paid-support"])
    )
    # The planner's rota: a German and a French speaker at 14:00, as the coverage rules ask.
    langs = {p.name: p.languages for p in DEMO_SPECIALISTS}
    assert any("de" in langs[s["specialist_name"]] for s in paid)
    assert any("fr" in langs[s["specialist_name"]] for s in paid)
    # Every member of the US team works that weekend (the planner's weekend rule).
    weekend: set[str] = set()
    for day in (SATURDAY, SATURDAY + timedelta(days=1)):
        on = await _on_shift(client, h, "support-en", _local(day, time(12), TEAMS["support-en"]))
        assert on, day
        assert all(s["source"]["rotation_name"].startswith("Plan ") for s in on)
        weekend |= {s["specialist_name"] for s in on}
    assert weekend == {p.name for p in DEMO_SPECIALISTS if "support-en" in p.teams}
    # People live in other zones than their team: a Dublin-based specialist in support-en.
    people = (await client.get("/v1/specialists", headers=h)).json()["items"]
    assert {p["time_zone"] for p in people if "support-en" in p["teams"]} >= {
        "America/Los_Angeles",
        "Europe/Dublin",
    }
    assert all(p["contact"].startswith(("+1", "client:")) for p in people)
    audit = (await client.get("/v1/audit", params={"limit": 200}, headers=h)).json()["items"]
    assert {a["actor"] for a in audit} == {"seed"}
    # History: the rotations began four weeks ago, so the ledger has earned days off.
    ledger = (await client.get("/v1/rota/lieu-ledger", headers=h)).json()
    assert sum(row["earned"] for row in ledger) >= 8


async def test_seeding_twice_changes_nothing(
    client: httpx.AsyncClient, keys: Keys, db: Database, clock: FixedClock
) -> None:
    first = await _seed(db, clock)
    h = await keys.headers("scheduler")

    async def state() -> list[Any]:
        window = {"start": "2026-11-01T00:00:00Z", "end": "2027-01-31T00:00:00Z"}
        return [
            (await client.get(path, params=params, headers=h)).json()
            for path, params in (
                ("/v1/teams", {}),
                ("/v1/specialists", {"limit": 200}),
                ("/v1/rotations", {}),
                ("/v1/audit", {"limit": 200}),
                ("/v1/rota/schedule", window),
            )
        ]

    before = await state()
    clock.advance(timedelta(days=3))
    second = await _seed(db, clock)
    assert second.new_rota_rows == 0
    assert (second.teams, second.specialists, second.rotations) == (
        first.teams,
        first.specialists,
        first.rotations,
    )
    clock.set(NOW)
    assert await state() == before


def test_cli_seed_if_empty(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)  # no stray .env
    assert switchboard(["seed", "--if-empty"]) == 0
    out = capsys.readouterr().out
    assert re.fullmatch("demo data loaded: " + PLANNED, out.strip()), out
    assert switchboard(["seed", "--if-empty"]) == 0
    assert capsys.readouterr().out.strip() == "database already has data; demo data not loaded"
    assert switchboard(["seed"]) == 0
    assert "the rota was already there" in capsys.readouterr().out


async def test_a_database_with_only_a_rota_is_not_empty(
    db: Database, clock: FixedClock, client: httpx.AsyncClient, keys: Keys
) -> None:
    async with db.transaction() as session:
        assert await database_is_empty(session)
    h = await keys.headers("scheduler")
    r = await client.post(
        "/v1/teams",
        json={"slug": "ops", "name": "Ops", "time_zone": "UTC"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    async with db.transaction() as session:
        assert not await database_is_empty(session)


async def test_english_is_covered_round_the_clock_on_a_weekday(
    client: httpx.AsyncClient, keys: Keys, db: Database, clock: FixedClock
) -> None:
    """Follow the sun: Sydney, Singapore, London (and the paid line in Dublin), California."""
    await _seed(db, clock)
    h = await keys.headers("scheduler")
    teams_by_hour = []
    people: set[str] = set()
    for hour in range(24):
        at = datetime.combine(TUESDAY, time(hour, 30), tzinfo=ZoneInfo("UTC")).isoformat()
        r = await client.get("/v1/rota/on-shift", params={"language": "en", "at": at}, headers=h)
        assert r.status_code == 200, r.text
        teams = {s["team"] for s in r.json()["on_shift"]}
        people.update(s["specialist_name"] for s in r.json()["on_shift"])
        assert teams, f"nobody speaks English at {at}"
        teams_by_hour.append(teams)
    for team in ("support-au", "support-sg", "support-uk", "support-en"):
        assert any(team in teams for teams in teams_by_hour), team
    assert "Yui Tanaka" in people and "Haruto Sato" not in people  # only Yui speaks English
