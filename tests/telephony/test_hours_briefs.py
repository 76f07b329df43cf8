"""The `hours` step reads its teams and their closures in one statement (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.closures.repository import hours_briefs
from app.core.db import Database
from app.models.closure import Closure
from app.models.rota import Team

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


async def test_teams_and_the_closures_that_concern_them_in_one_read(db: Database) -> None:
    rule = {"days": ["mon"], "start": "09:00", "end": "17:00", "min_staff": 1}
    async with db.transaction() as session:
        session.add_all(
            [
                _team("desk-a", "Europe/Dublin", [rule], "IE"),
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
    async with db.transaction() as session:
        teams, closures = await hours_briefs(
            session, ["desk-a", "desk-b", "nowhere"], NOW, NOW + timedelta(days=21)
        )
        none, no_closures = await hours_briefs(session, ["nowhere"], NOW, NOW + timedelta(days=21))
    assert sorted(teams) == ["desk-a", "desk-b"]
    a = teams["desk-a"]
    assert (a.tz, a.coverage, a.holiday_country, a.holiday_subdivision) == (
        "Europe/Dublin",
        [rule],
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
