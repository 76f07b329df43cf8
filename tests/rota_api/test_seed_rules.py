"""The demo organisation obeys its own rules in whatever week it is seeded.

Seeded on several days (an ordinary week, Christmas, New Year, Easter, the spring
daylight-saving changes and the real today), the demo rota has, over its four weeks of
history and four weeks ahead: no coverage gap in any team, every weekend-rota member working
their crew's weekends, no week without a weekend in the lieu ledger, no cancelled days, and
every day earned taken by the week after.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import holidays
import httpx
import pytest

from app.core.clock import FixedClock
from app.core.db import Database
from app.rota.seed_data import DEMO_ROTATIONS, DEMO_SPECIALISTS, DEMO_TEAMS
from app.rota.seed_rota import history_monday
from app.rota.wallclock import local_midnight
from app.seed import seed_all
from tests.conftest import Keys

SEEDED_ON = {
    "ordinary": datetime(2026, 11, 20, 15, 0, tzinfo=UTC),
    "christmas": datetime(2026, 12, 24, 9, 0, tzinfo=UTC),
    "new-year": datetime(2027, 1, 4, 23, 30, tzinfo=UTC),
    "easter": datetime(2027, 3, 30, 4, 0, tzinfo=UTC),
    "spring-dst": datetime(2027, 3, 15, 12, 0, tzinfo=UTC),
    "today": datetime.now(UTC),
}
WEEKEND_ROTA = {name for r in DEMO_ROTATIONS if r.earns_lieu for name in r.members}


async def _get(client: httpx.AsyncClient, h: dict[str, str], path: str, **params: str) -> Any:
    r = await client.get(path, params=params, headers=h)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("when", SEEDED_ON.values(), ids=SEEDED_ON.keys())
async def test_demo_rota_has_no_gaps_and_no_missed_weekends(
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
    h = await keys.headers("scheduler")

    for team in DEMO_TEAMS:
        start = local_midnight(history_monday(when, team.tz), team.tz)
        end = when + timedelta(weeks=4)
        gaps = await _get(
            client, h, "/v1/rota/gaps", team=team.slug, start=start.isoformat(), end=end.isoformat()
        )
        assert gaps == [], team.slug

    ledger = await _get(client, h, "/v1/rota/lieu-ledger")
    rows = {row["specialist_name"]: row for row in ledger}
    assert set(rows) == WEEKEND_ROTA
    for name, row in rows.items():
        assert row["weeks_without_weekend"] == [], name
        assert row["cancelled"] == 0, name
        # Four weeks of history: each crew worked at least one weekend (a public holiday
        # may take one of its days away)...
        assert row["earned"] >= 2, name
        # ...and every day earned was taken, but for the last weekend's (taken next week).
        assert 0 <= row["outstanding"] <= 2, name

    # The weekend crews alternate: on each weekend day of the next two weeks (but public
    # holidays) exactly one crew of each weekend team is on shift, a different one each week.
    for team in DEMO_TEAMS:
        crews = [
            frozenset(r.members) for r in DEMO_ROTATIONS if r.earns_lieu and r.team == team.slug
        ]
        if not crews:
            continue
        country, subdivision = team.holidays
        monday = history_monday(when, team.tz) + timedelta(weeks=5)
        off = holidays.country_holidays(country, subdiv=subdivision, years=monday.year)
        off.update(holidays.country_holidays(country, subdiv=subdivision, years=monday.year + 1))
        worked: list[set[frozenset[str]]] = []
        for week in range(2):
            worked.append(set())
            for day in (monday + timedelta(weeks=week, days=d) for d in (5, 6)):
                if day in off:
                    continue
                at = (local_midnight(day, team.tz) + timedelta(hours=12)).isoformat()
                on = await _get(client, h, "/v1/rota/on-shift", team=team.slug, at=at)
                names = frozenset(shift["specialist_name"] for shift in on["on_shift"])
                assert names in crews, (team.slug, day, names)
                worked[week].add(names)
        assert worked[0].isdisjoint(worked[1]), (team.slug, worked)
        assert set().union(*worked) == set(crews), (team.slug, worked)
