"""Public entry points: on_shift_at, speed far from the anchor, holiday calendars."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.rota.calculator import final_schedule, holiday_dates, on_shift_at
from app.rota.rules import LieuRule

from .helpers import cover, rota, utc, version

A, B, C = 1, 2, 3
ON_CALL = version(
    rotation_id=1,
    team="ops",
    tz="America/Chicago",
    members=(A, B, C),
    days=frozenset({1}),
    start=time(0),
    end=time(0),
    length_days=7,
    anchor=date(2024, 1, 2),
    assignment="turns",
)
DESK = version(rotation_id=2, team="desk", members=(C,))


def test_on_shift_at_instant_and_team() -> None:
    r = rota([ON_CALL, DESK])
    # 2024-11-04 is in the week starting Tue 2024-10-29, occurrence 43: 43 % 3 = 1 -> B.
    at = utc(2024, 11, 4, 12)
    assert [(s.team, s.specialist_id) for s in on_shift_at(r, at)] == [("ops", B), ("desk", C)]
    (shift,) = on_shift_at(r, at, team="ops")
    assert (shift.start, shift.end, shift.source.occurrence) == (
        utc(2024, 10, 29, 5),
        utc(2024, 11, 5, 6),
        43,
    )
    # Handover instant: the old shift ends, the new one starts (end is exclusive).
    handover = on_shift_at(r, utc(2024, 11, 5, 6), team="ops")
    assert [s.specialist_id for s in handover] == [C]


def test_on_shift_at_sees_covers() -> None:
    r = rota([ON_CALL], overrides=[cover(1, B, A, utc(2024, 11, 4), utc(2024, 11, 4, 18))])
    assert [s.specialist_id for s in on_shift_at(r, utc(2024, 11, 4, 12))] == [A]
    assert [s.specialist_id for s in on_shift_at(r, utc(2024, 11, 4, 19))] == [B]


def test_ten_years_out_is_as_fast_as_next_week() -> None:
    weekend = version(
        rotation_id=3,
        members=(A, B, C),
        days=frozenset({5, 6}),
        anchor=date(2024, 1, 6),
        assignment="turns",
        earns_lieu=True,
        lieu_rule=LieuRule.most_staffed(),
    )
    r = rota([ON_CALL, DESK, weekend])
    timings = []
    for start in (utc(2024, 2, 5), utc(2034, 2, 6)):
        began = clock.perf_counter()
        shifts = final_schedule(r, start, start + timedelta(days=7))
        timings.append(clock.perf_counter() - began)
        assert shifts
    assert timings[1] < max(5 * timings[0], 0.25)


def test_outputs_are_utc() -> None:
    tokyo = datetime(2024, 3, 4, 9, tzinfo=ZoneInfo("Asia/Tokyo"))
    shifts = final_schedule(rota([DESK]), tokyo, tokyo + timedelta(days=2))
    assert shifts and all(s.start.tzinfo is UTC and s.end.tzinfo is UTC for s in shifts)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        final_schedule(rota([DESK]), datetime(2024, 1, 1), utc(2024, 1, 2))


def test_holiday_dates_from_the_holidays_package() -> None:
    days = holiday_dates("US", None, [2024])
    assert date(2024, 7, 4) in days and date(2024, 7, 5) not in days
    bavaria = holiday_dates("DE", "BY", range(2024, 2026))
    assert date(2024, 1, 6) in bavaria and date(2025, 1, 6) in bavaria
    assert date(2024, 1, 6) not in holiday_dates("DE", "BE", [2024])
