"""The `hours` step reads its teams and their closures in one statement (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.calls import records
from app.closures.repository import HoursAhead, hours_briefs, hours_column
from app.core.db import Database
from app.core.driver_sql import Sql, run
from app.models.call import Call
from app.models.closure import Closure
from app.models.rota import Team
from tests.routing.calls import add_call

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def _team(slug: str, tz: str, coverage: list[dict[str, object]], country: str | None) -> Team:
    return Team(
        slug=slug,
        name=slug,
        tz=tz,
        coverage=coverage,
        holiday_country=country,
        calendar_token=f"token-{slug}",
        created_at=NOW,
        updated_at=NOW,
    )


def _closure(team: str | None, starts: timedelta, ends: timedelta, text: str) -> Closure:
    return Closure(
        team=team,
        reason=text,
        starts_at=NOW + starts,
        ends_at=NOW + ends,
        messages={"en": text},
        created_at=NOW,
        updated_at=NOW,
    )


RULE = {"days": ["mon"], "start": "09:00", "end": "17:00", "min_staff": 1}


async def _teams_and_closures(db: Database) -> None:
    async with db.transaction() as session:
        session.add_all(
            [
                _team("desk-a", "Europe/Dublin", [RULE], "IE"),
                _team("desk-b", "Australia/Lord_Howe", [], None),
                _team("desk-c", "UTC", [], None),
            ]
        )
        session.add_all(
            [
                _closure("desk-a", timedelta(hours=5), timedelta(hours=6), "a later"),
                _closure(None, timedelta(hours=1), timedelta(hours=2), "everyone"),
                _closure("desk-b", timedelta(hours=-1), timedelta(hours=1), "b now"),
                _closure("desk-c", timedelta(hours=1), timedelta(hours=2), "other team"),
                _closure("desk-a", timedelta(days=-3), timedelta(days=-2), "over"),
                _closure("desk-a", timedelta(days=30), timedelta(days=31), "too far"),
            ]
        )


async def test_teams_and_the_closures_that_concern_them_in_one_read(db: Database) -> None:
    await _teams_and_closures(db)
    async with db.transaction() as session:
        teams, closures = await hours_briefs(
            session, ["desk-a", "desk-b", "nowhere"], NOW, NOW + timedelta(days=21)
        )
        none, no_closures = await hours_briefs(session, ["nowhere"], NOW, NOW + timedelta(days=21))
    assert sorted(teams) == ["desk-a", "desk-b"]
    a = teams["desk-a"]
    assert (a.tz, a.coverage, a.holiday_country, a.holiday_subdivision) == (
        "Europe/Dublin",
        [RULE],
        "IE",
        None,
    )
    assert (teams["desk-b"].tz, teams["desk-b"].coverage) == ("Australia/Lord_Howe", [])
    assert [(c.team, c.messages["en"]) for c in closures] == [
        ("desk-b", "b now"),
        (None, "everyone"),
        ("desk-a", "a later"),
    ]
    assert closures[0].starts_at == NOW - timedelta(hours=1)
    assert closures[0].ends_at == NOW + timedelta(hours=1)
    assert (none, no_closures) == ({}, [])  # the line's teams are gone: nothing to honour


@pytest.mark.postgres_only
async def test_read_ahead_with_another_statement_the_same_as_alone(db: Database) -> None:
    """`hours_column` (the read made with the call's on PostgreSQL) finds what
    `hours_briefs` does, and answers for any of the teams it was read for."""
    await _teams_and_closures(db)
    end = NOW + timedelta(days=21)
    read = ("desk-a", "desk-b", "desk-c", "nowhere")
    async with db.transaction() as session:
        # As a webhook's transaction reads the call (locked) with the hours ahead.
        call_id = await add_call(session, NOW, status="in-progress", age=timedelta(minutes=1))
        sid = (await session.get_one(Call, call_id)).sid
        by_call = HoursAhead(read, NOW, end)
        record, _ = await records.call_and_state(session, sid, hours=by_call)
        assert record is not None and record.call.id == call_id
        ahead = HoursAhead(read, NOW, end)
        found = await run(
            session, Sql("", Sql.of(f"SELECT {hours_column(4)}").postgresql), ahead.params()
        )
        ahead.read(found.rows[0][0])
        for asked in (
            ["desk-a", "desk-b", "nowhere"],
            ["desk-c"],
            ["desk-b", "desk-a"],
            ["nowhere"],
        ):
            alone = await hours_briefs(session, asked, NOW, end)
            assert ahead.briefs_for(asked, NOW, end) == alone
            assert by_call.briefs_for(asked, NOW, end) == alone
    # Not for a team it was not read for, nor another window.
    assert ahead.briefs_for(["desk-a", "desk-d"], NOW, end) is None
    assert (
        ahead.briefs_for(["desk-a"], NOW + timedelta(minutes=1), end + timedelta(minutes=1)) is None
    )
    assert HoursAhead(read, NOW, end).briefs_for(["desk-a"], NOW, end) is None  # nothing read
