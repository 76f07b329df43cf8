"""The demo organisation obeys its own rules in whatever week it is seeded.

Seeded on several days (an ordinary week, Christmas, New Year, Easter, the spring
daylight-saving changes and the real today), the demo rota has, over its four weeks of
history and four weeks ahead, for every demo team:

- no coverage gap;
- in a team open at weekends, every member works at least one weekend day in EVERY week
  (but a week whose weekend days are both public holidays, when the team is closed), in
  that team or another, and takes a weekday off in lieu for each weekend day worked, in the
  same or the next week; a team closed at weekends has nobody working them;
- in the lieu ledger: no week without a weekend, no cancelled or unplaced day, and every
  day earned taken by the week after.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import holidays
import httpx
import pytest

from app.core.clock import FixedClock
from app.core.db import Database
from app.rota.seed_data import DEMO_ROTATIONS, DEMO_SPECIALISTS, DEMO_TEAMS, DemoTeam
from app.rota.seed_rota import history_monday
from app.rota.wallclock import local_date, local_midnight
from app.seed import seed_all
from tests.conftest import Keys

SEEDED_ON = {
    "ordinary": datetime(2026, 11, 20, 15, 0, tzinfo=UTC),
    "christmas": datetime(2026, 12, 24, 9, 0, tzinfo=UTC),
    "new-year": datetime(2027, 1, 4, 23, 30, tzinfo=UTC),
    "easter": datetime(2027, 3, 30, 4, 0, tzinfo=UTC),
    "spring-dst": datetime(2027, 3, 15, 12, 0, tzinfo=UTC),
    # Sunday afternoon in UTC is already Monday in Sydney and Tokyo: their weeks run ahead.
    "sunday-late-utc": datetime(2026, 12, 6, 13, 39, 58, tzinfo=UTC),
    "today": datetime.now(UTC),
}
MEMBERS = {
    team.slug: {p.name for p in DEMO_SPECIALISTS if team.slug in p.teams} for team in DEMO_TEAMS
}
OPEN_AT_WEEKENDS = {
    team.slug for team in DEMO_TEAMS if any({"sat", "sun"} & set(r["days"]) for r in team.coverage)
}
# Siobhán stands in on the paid line and is rostered (weekends too) in the US team.
ROSTERED = {
    slug: names - ({"Siobhán Murphy"} if slug == "paid-support" else set())
    for slug, names in MEMBERS.items()
}


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _public_holidays(team: DemoTeam, years: range) -> set[date]:
    country, subdivision = team.holidays
    return set(holidays.country_holidays(country, subdiv=subdivision, years=list(years)))


async def _get(client: httpx.AsyncClient, h: dict[str, str], path: str, **params: str) -> Any:
    r = await client.get(path, params=params, headers=h)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("when", SEEDED_ON.values(), ids=SEEDED_ON.keys())
async def test_the_demo_rota_obeys_the_weekend_rule_every_week(
    client: httpx.AsyncClient, keys: Keys, db: Database, clock: FixedClock, when: datetime
) -> None:
    clock.set(when)
    async with db.transaction() as session:
        summary = await seed_all(session, clock)
    assert (summary.teams, summary.specialists, summary.rotations) == (
        len(DEMO_TEAMS),
        len(DEMO_SPECIALISTS),
        len(DEMO_ROTATIONS),
    )
    # The planner made the weekend rota of every team open at weekends, and it was applied.
    assert {p.team for p in summary.plans if p.applied} == OPEN_AT_WEEKENDS
    assert {"support-en", "paid-support"} == OPEN_AT_WEEKENDS
    h = await keys.headers("scheduler")

    # Everyone's shifts and days off over the checked weeks (with a week's margin).
    lo = min(history_monday(when, t.tz) for t in DEMO_TEAMS) - timedelta(days=7)
    hi = _monday(when.date()) + timedelta(weeks=6)
    schedule = await _get(
        client,
        h,
        "/v1/rota/schedule",
        start=datetime.combine(lo, datetime.min.time(), UTC).isoformat(),
        end=datetime.combine(hi, datetime.min.time(), UTC).isoformat(),
    )
    weekend_worked: defaultdict[str, set[date]] = defaultdict(set)
    worked: defaultdict[str, set[date]] = defaultdict(set)
    for s in schedule["shifts"]:
        day = date.fromisoformat(s["local_date"])  # in the shift's team zone
        worked[s["specialist_name"]].add(day)
        if day.weekday() >= 5:
            weekend_worked[s["specialist_name"]].add(day)
    names = {
        p["id"]: p["name"] for p in (await _get(client, h, "/v1/specialists", limit="200"))["items"]
    }
    lieu: defaultdict[str, list[date]] = defaultdict(list)
    for d in schedule["days_off"]:
        if d["source"] == "lieu":
            lieu[names[d["specialist_id"]]].append(date.fromisoformat(d["day"]))

    for team in DEMO_TEAMS:
        first = history_monday(when, team.tz)
        end = when + timedelta(weeks=4)
        gaps = await _get(
            client,
            h,
            "/v1/rota/gaps",
            team=team.slug,
            start=local_midnight(first, team.tz).isoformat(),
            end=end.isoformat(),
        )
        assert gaps == [], team.slug
        # Complete weeks from the demo's first Monday to the week four weeks ahead.
        weeks = [first + timedelta(weeks=i) for i in range(9)]
        assert weeks[-1] <= _monday(local_date(end, team.tz))
        closed = _public_holidays(team, range(first.year, first.year + 2))
        if team.slug not in OPEN_AT_WEEKENDS:
            # Closed at weekends: its people (in no team open then) work no weekend day.
            for person in DEMO_SPECIALISTS:
                if team.slug in person.teams and not OPEN_AT_WEEKENDS & set(person.teams):
                    assert not weekend_worked[person.name], (team.slug, person.name)
            continue
        for name in ROSTERED[team.slug]:
            for monday in weeks:
                weekend = {monday + timedelta(days=5), monday + timedelta(days=6)}
                if weekend <= closed:
                    continue  # both weekend days are public holidays: the team is closed
                assert weekend & weekend_worked[name], (team.slug, name, monday)
            # A weekday off in lieu for each weekend day, that week or the next: counted
            # week by week, the days taken by the end of the next week cover the days earned.
            days_off = sorted(lieu[name])
            assert all(d.weekday() < 5 for d in days_off), (name, days_off)
            assert not set(days_off) & worked[name], name
            for monday in weeks[:-1]:
                earned = sum(1 for d in weekend_worked[name] if first <= d < monday + timedelta(7))
                taken = sum(1 for d in days_off if first <= d < monday + timedelta(14))
                assert taken >= earned, (team.slug, name, monday, earned, taken)

    ledger = await _get(client, h, "/v1/rota/lieu-ledger")
    rows = {row["specialist_name"]: row for row in ledger}
    assert set(rows) == ROSTERED["support-en"] | ROSTERED["paid-support"]
    for name, row in rows.items():
        assert row["weeks_without_weekend"] == [], name
        assert row["cancelled"] == 0 and row["unplaced"] == [], name
        # Four weeks of history, a weekend day or more each week (holidays aside)...
        assert row["earned"] >= 3, name
        # ...and every day earned was taken, but for the last two weekends' (taken after);
        # a day off may come earlier in the week than the weekend day that earns it (the
        # planner's rule: the same week or the next), so this week's may be taken ahead.
        assert -2 <= row["outstanding"] <= 4, name
