"""The materialised on-shift lookup answers exactly what the calculator answers."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete

from app.core.db import Database
from app.models.rota import MaterialisedWindow
from app.rota import lookup, materialise
from tests.conftest import NOW, Keys
from tests.rota_api.helpers import WEEKDAYS, Api, instant, utc

SINCE = utc(2026, 11, 1)
FILTERS: list[dict[str, Any]] = [
    {},
    {"team": "t"},
    {"team": "u"},
    {"language": "fr"},
    {"skill": "billing"},
]


async def _build(api: Api) -> dict[str, int]:
    """Two teams, a specialist in both, five rotations, overrides and days off in lieu."""
    await api.team(
        "t", coverage=[{"days": WEEKDAYS, "start": "09:00", "end": "17:00", "min_staff": 1}]
    )
    await api.team("u", "Europe/Dublin", languages=["en", "fr"])
    a, b, c = await api.people("t", "A", "B", "C")
    d, e = await api.people("u", "D", "E", languages=["fr"], tz="Europe/Dublin")
    m = await api.specialist("M", ["t", "u"], skills=["billing"], languages=["en", "fr"])
    await api.rotation(
        "u", [d, m], name="support", start="10:00", end="18:00", effective_from=SINCE
    )
    await api.rotation(
        "u",
        [e, d],
        name="on-call",
        days=["tue"],
        start="00:00",
        end="00:00",
        length_days=7,
        assignment="turns",
        effective_from=SINCE,
    )
    await api.rotation("t", [a, b, m], name="weekdays", effective_from=SINCE)
    await api.rotation(
        "t",
        [c],
        name="nights",
        days=["mon", "wed"],
        start="22:00",
        end="06:00",
        every_weeks=2,
        effective_from=SINCE,
    )
    await api.override(
        kind="cover",
        specialist_id=a,
        substitute_id=c,
        start=utc(2026, 11, 24, 11),
        end=utc(2026, 11, 24, 15),
    )
    await api.override(
        kind="leave", specialist_id=d, start=utc(2026, 11, 26, 12), end=utc(2026, 11, 30)
    )
    await api.override(
        kind="extra", specialist_id=c, team="t", start=utc(2026, 12, 5, 9), end=utc(2026, 12, 5, 13)
    )
    await api.override(
        kind="swap",
        specialist_id=a,
        substitute_id=c,  # not B, who works the same weekday shifts as A
        team="t",
        start=utc(2026, 12, 1, 9),
        end=utc(2026, 12, 1, 17),
        swap_start=utc(2026, 12, 3, 9),
        swap_end=utc(2026, 12, 3, 17),
    )
    # Last, so that only team t is refreshed: M's days off in lieu also take away M's
    # shifts in team u.
    await api.rotation(
        "t",
        [a, m, c],
        name="weekend",
        days=["sat", "sun"],
        start="08:00",
        end="20:00",
        assignment="turns",
        earns_lieu=True,
        lieu_rule="wed",
        starts_on="2026-11-21",
        effective_from=SINCE,
    )
    return {"A": a, "B": b, "C": c, "D": d, "E": e, "M": m}


def _instants(shifts: list[dict[str, Any]], count: int = 50) -> list[datetime]:
    """Shift edges (and a second before them) plus random instants, inside the window."""
    lo, hi = NOW - timedelta(days=2), NOW + timedelta(weeks=9)
    rng = random.Random(20261120)
    edges = sorted(
        {
            instant(s[k]) + delta
            for s in shifts
            for k in ("start", "end")
            for delta in (timedelta(0), timedelta(seconds=-1))
        }
    )
    picked = rng.sample([t for t in edges if lo <= t < hi], count // 2)
    span = int((hi - lo).total_seconds() // 60)
    picked += [lo + timedelta(minutes=rng.randrange(span)) for _ in range(count - len(picked))]
    return sorted(picked)


async def _answers(db: Database, instants: list[datetime]) -> list[list[Any]]:
    out = []
    async with db.transaction() as session:
        for at in instants:
            for filters in FILTERS:
                out.append(await lookup.on_shift(session, at, **filters))
    return out


async def test_materialised_lookup_equals_the_calculation(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    api = Api(client, await keys.headers("scheduler"))
    await _build(api)
    shifts = await api.schedule(NOW - timedelta(days=2), NOW + timedelta(days=60))
    assert {s["source"]["kind"] for s in shifts} == {"rotation", "cover", "extra"}
    assert await api.days_off(NOW, NOW + timedelta(days=60))  # some days off in lieu
    instants = _instants(shifts)
    async with db.transaction() as session:
        win = await materialise.window(session)
        assert all(materialise.covers(win, at) for at in instants)
    stored = await _answers(db, instants)
    async with db.transaction() as session:
        await session.execute(delete(MaterialisedWindow))
    calculated = await _answers(db, instants)
    mismatches = [
        (at, filters, got, want)
        for (at, filters), got, want in zip(
            ((at, f) for at in instants for f in FILTERS), stored, calculated, strict=True
        )
        if got != want
    ]
    assert not mismatches, mismatches[:3]
    assert sum(1 for answer in stored if answer) > len(stored) // 3  # not all empty
