"""Time rules through the API: turns per occurrence, wall-clock shifts across DST, gaps, folds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.core.clock import FixedClock
from tests.conftest import Keys
from tests.rota_api.helpers import Api, span, utc, who

ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@pytest.fixture
async def api(client: httpx.AsyncClient, keys: Keys) -> Api:
    """A scheduler's API."""
    return Api(client, await keys.headers("scheduler"))


async def _team_with_rotation(
    api: Api, tz: str, names: tuple[str, ...] = ("A",), **rules: Any
) -> list[int]:
    """Team `z` in `tz` with one rotation of these people (created with allow_past)."""
    await api.team("z", tz)
    ids = await api.people("z", *names, tz=tz)
    await api.rotation("z", ids, **rules)
    return ids


async def test_weekend_turns_advance_per_occurrence(api: Api) -> None:
    await _team_with_rotation(
        api,
        "UTC",
        ("A", "B", "C"),
        name="weekend",
        days=["sat", "sun"],
        start="00:00",
        end="12:00",
        assignment="turns",
        per_occurrence=1,
        starts_on="2024-08-03",
        effective_from=utc(2024, 8, 3),
    )
    shifts = await api.schedule(utc(2024, 8, 1), utc(2024, 8, 19))
    assert who(shifts) == [
        ("2024-08-03", "A"),
        ("2024-08-04", "B"),
        ("2024-08-10", "C"),
        ("2024-08-11", "A"),
        ("2024-08-17", "B"),
        ("2024-08-18", "C"),
    ]
    assert span(shifts[0]) == (utc(2024, 8, 3), utc(2024, 8, 3, 12))
    assert all(s["source"]["rotation_name"] == "weekend" for s in shifts)
    # Nobody on weekdays, nor in the weekend afternoons.
    for day in range(5, 10):
        assert await api.on_shift(utc(2024, 8, day, 6)) == []
    assert await api.on_shift(utc(2024, 8, 10, 12)) == []
    assert await api.names_on_shift(utc(2024, 8, 10, 11, 59)) == ["C"]
    weekdays = await api.schedule(utc(2024, 8, 5), utc(2024, 8, 10))
    assert weekdays == []


async def _chicago_weekly(api: Api) -> None:
    await _team_with_rotation(
        api,
        "America/Chicago",
        ("A", "B"),
        name="on-call",
        days=["tue"],
        start="00:00",
        end="00:00",
        length_days=7,
        assignment="turns",
        starts_on="2024-10-01",
        effective_from=utc(2024, 10, 1, 5),
    )


async def test_weekly_shift_lasts_169_hours_across_fall_back(api: Api) -> None:
    await _chicago_weekly(api)
    (shift,) = await api.schedule(utc(2024, 11, 4), utc(2024, 11, 4, 1))
    assert span(shift) == (utc(2024, 10, 29, 5), utc(2024, 11, 5, 6))
    start, end = span(shift)
    assert end - start == timedelta(hours=169)
    assert shift["local_date"] == "2024-10-29"
    assert shift["specialist_name"] == "A"  # occurrence 4 of A, B, A, B, ...
    handover = utc(2024, 11, 5, 6)
    assert await api.names_on_shift(handover - timedelta(seconds=1)) == ["A"]
    assert await api.names_on_shift(handover) == ["B"]
    # 05:00Z would be midnight had the clocks not gone back: A is still on.
    assert await api.names_on_shift(utc(2024, 11, 5, 5)) == ["A"]
    # The same instants written with the local offset.
    r = await api.get("/v1/rota/on-shift", at="2024-11-04T23:59:59-06:00")
    assert [s["specialist_name"] for s in r.json()["on_shift"]] == ["A"]
    r = await api.get("/v1/rota/on-shift", at="2024-11-05T00:00:00-06:00")
    (on,) = r.json()["on_shift"]
    assert on["specialist_name"] == "B"
    assert on["start"] == "2024-11-05T06:00:00Z"
    assert on["source"]["rotation_name"] == "on-call"


async def test_weekly_shift_lasts_167_hours_across_spring_forward(api: Api) -> None:
    await _chicago_weekly(api)
    (shift,) = await api.schedule(utc(2025, 3, 10), utc(2025, 3, 10, 1))
    assert span(shift) == (utc(2025, 3, 4, 6), utc(2025, 3, 11, 5))
    start, end = span(shift)
    assert end - start == timedelta(hours=167)
    assert shift["specialist_name"] == "A"  # 22 weeks after the anchor: even
    handover = utc(2025, 3, 11, 5)
    assert await api.names_on_shift(handover - timedelta(seconds=1)) == ["A"]
    assert await api.names_on_shift(handover) == ["B"]
    # 06:00Z would be midnight in standard time: B has been on for an hour.
    assert await api.names_on_shift(utc(2025, 3, 11, 6)) == ["B"]
    # Every week in between hands over at local midnight (06:00Z before, 05:00Z after).
    weeks = await api.schedule(utc(2025, 2, 20), utc(2025, 3, 20))
    starts = [span(s)[0] for s in weeks]
    assert starts == [
        utc(2025, 2, 18, 6),
        utc(2025, 2, 25, 6),
        utc(2025, 3, 4, 6),
        utc(2025, 3, 11, 5),
        utc(2025, 3, 18, 5),
    ]
    assert [s["specialist_name"] for s in weeks] == ["A", "B", "A", "B", "A"]


async def test_nonexistent_start_moves_to_the_end_of_the_gap(api: Api) -> None:
    await _team_with_rotation(
        api,
        "America/Chicago",
        days=["sun"],
        start="02:30",
        end="10:30",
        effective_from=utc(2025, 3, 1),
    )
    (gap_day,) = await api.schedule(utc(2025, 3, 9), utc(2025, 3, 10))
    assert span(gap_day) == (utc(2025, 3, 9, 8), utc(2025, 3, 9, 15, 30))
    assert gap_day["local_date"] == "2025-03-09"
    (week_before,) = await api.schedule(utc(2025, 3, 2), utc(2025, 3, 3))
    assert span(week_before) == (utc(2025, 3, 2, 8, 30), utc(2025, 3, 2, 16, 30))
    assert await api.names_on_shift(utc(2025, 3, 9, 7, 59)) == []
    assert await api.names_on_shift(utc(2025, 3, 9, 8)) == ["A"]


async def test_europe_dublin_winter_and_summer(api: Api) -> None:
    await _team_with_rotation(api, "Europe/Dublin", days=["wed"], effective_from=utc(2025, 1, 1))
    (winter,) = await api.schedule(utc(2025, 1, 15), utc(2025, 1, 16))
    assert span(winter) == (utc(2025, 1, 15, 9), utc(2025, 1, 15, 17))
    (summer,) = await api.schedule(utc(2025, 7, 16), utc(2025, 7, 17))
    assert span(summer) == (utc(2025, 7, 16, 8), utc(2025, 7, 16, 16))
    assert await api.names_on_shift(utc(2025, 7, 16, 15, 59)) == ["A"]
    assert await api.names_on_shift(utc(2025, 7, 16, 16)) == []


async def test_lord_howe_half_hour_dst(api: Api) -> None:
    await _team_with_rotation(
        api,
        "Australia/Lord_Howe",
        days=ALL_DAYS,
        start="00:00",
        end="12:00",
        effective_from=utc(2024, 9, 1),
    )
    (winter,) = await api.schedule(utc(2024, 9, 10), utc(2024, 9, 10, 0, 1))
    assert span(winter) == (utc(2024, 9, 9, 13, 30), utc(2024, 9, 10, 1, 30))  # +10:30
    # Clocks go from 02:00 to 02:30 on 6 October 2024: that shift lasts 11.5 hours.
    (change,) = await api.schedule(utc(2024, 10, 6), utc(2024, 10, 6, 0, 1))
    assert change["local_date"] == "2024-10-06"
    assert span(change) == (utc(2024, 10, 5, 13, 30), utc(2024, 10, 6, 1))
    (summer,) = await api.schedule(utc(2024, 10, 10), utc(2024, 10, 10, 0, 1))
    assert span(summer) == (utc(2024, 10, 9, 13), utc(2024, 10, 10, 1))  # +11
    assert await api.names_on_shift(utc(2024, 10, 6, 0, 59)) == ["A"]
    assert await api.names_on_shift(utc(2024, 10, 6, 1)) == []


async def test_asia_tokyo_overnight_shift_belongs_to_its_start_day(api: Api) -> None:
    await _team_with_rotation(
        api, "Asia/Tokyo", days=["fri"], start="22:00", end="06:00", effective_from=utc(2025, 1, 1)
    )
    shifts = await api.schedule(utc(2025, 6, 1), utc(2025, 6, 15))
    assert [(s["local_date"], *span(s)) for s in shifts] == [
        ("2025-06-06", utc(2025, 6, 6, 13), utc(2025, 6, 6, 21)),
        ("2025-06-13", utc(2025, 6, 13, 13), utc(2025, 6, 13, 21)),
    ]
    r = await api.get("/v1/rota/on-shift", at="2025-06-07T05:59:00+09:00")
    assert [s["specialist_name"] for s in r.json()["on_shift"]] == ["A"]


async def test_australia_sydney_offsets_and_fall_back_fold(api: Api) -> None:
    await _team_with_rotation(
        api,
        "Australia/Sydney",
        days=["sun"],
        start="02:30",
        end="04:00",
        effective_from=utc(2025, 1, 1),
    )
    (summer,) = await api.schedule(utc(2025, 1, 11), utc(2025, 1, 13))
    assert span(summer) == (utc(2025, 1, 11, 15, 30), utc(2025, 1, 11, 17))  # +11
    # 02:30 happens twice on 6 April 2025: the first one (still +11); 04:00 is +10.
    (fold,) = await api.schedule(utc(2025, 4, 5), utc(2025, 4, 7))
    assert span(fold) == (utc(2025, 4, 5, 15, 30), utc(2025, 4, 5, 18))
    (winter,) = await api.schedule(utc(2025, 7, 12), utc(2025, 7, 14))
    assert span(winter) == (utc(2025, 7, 12, 16, 30), utc(2025, 7, 12, 18))  # +10


async def test_a_day_off_is_not_past_until_the_next_local_midnight_on_a_25_hour_day(
    api: Api, clock: FixedClock
) -> None:
    await api.team("mad", "Europe/Madrid")
    (sid,) = await api.people("mad", "Ana", tz="Europe/Madrid")
    # 2026-10-25 in Madrid runs from 22:00 UTC the day before to 23:00 UTC (clocks go back).
    clock.set(utc(2026, 10, 25, 22, 30))
    body = {"specialist_id": sid, "day": "2026-10-25", "note": "fall back"}

    answer = await api.client.post("/v1/days-off", json=body, headers=api.h)

    assert answer.status_code == 201, answer.text
    clock.set(utc(2026, 10, 25, 23, 5))
    late = await api.client.post("/v1/days-off", json={**body, "day": "2026-10-25"}, headers=api.h)
    assert late.status_code == 422
    assert late.json()["errors"][0]["field"] == "body.day"
