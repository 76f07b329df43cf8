"""Wall-clock to UTC: DST gaps and folds in several zones, and shifts across DST."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from app.rota.occurrences import base_occurrences, shift_bounds
from app.rota.wallclock import local_date, local_midnight, local_to_utc

from .helpers import utc, version


@pytest.mark.parametrize(
    ("tz", "day", "at", "expected"),
    [
        # Spring forward: 02:30 does not exist, first instant after the gap is 03:00 CDT.
        ("America/Chicago", date(2024, 3, 10), time(2, 30), utc(2024, 3, 10, 8, 0)),
        ("America/Chicago", date(2024, 3, 10), time(2, 0), utc(2024, 3, 10, 8, 0)),
        ("America/Chicago", date(2024, 3, 10), time(1, 59), utc(2024, 3, 10, 7, 59)),
        ("America/Chicago", date(2024, 3, 10), time(3, 0), utc(2024, 3, 10, 8, 0)),
        # Fall back: 01:30 happens twice, the first (CDT) one counts.
        ("America/Chicago", date(2024, 11, 3), time(1, 30), utc(2024, 11, 3, 6, 30)),
        ("America/Chicago", date(2024, 11, 3), time(2, 0), utc(2024, 11, 3, 8, 0)),
        # Dublin: IST (+1) in summer, GMT in winter (negative DST in tzdata).
        ("Europe/Dublin", date(2024, 1, 15), time(9), utc(2024, 1, 15, 9)),
        ("Europe/Dublin", date(2024, 7, 15), time(9), utc(2024, 7, 15, 8)),
        ("Europe/Dublin", date(2024, 3, 31), time(1, 30), utc(2024, 3, 31, 1)),
        ("Europe/Dublin", date(2024, 10, 27), time(1, 30), utc(2024, 10, 27, 0, 30)),
        # Tokyo: no DST, always +9.
        ("Asia/Tokyo", date(2024, 3, 10), time(2, 30), utc(2024, 3, 9, 17, 30)),
        ("Asia/Tokyo", date(2024, 11, 3), time(1, 30), utc(2024, 11, 2, 16, 30)),
        # Sydney: falls back in April (03:00 AEDT -> 02:00 AEST), springs forward in October.
        ("Australia/Sydney", date(2024, 4, 7), time(2, 30), utc(2024, 4, 6, 15, 30)),
        ("Australia/Sydney", date(2024, 10, 6), time(2, 30), utc(2024, 10, 5, 16, 0)),
        ("Australia/Sydney", date(2024, 1, 15), time(9), utc(2024, 1, 14, 22)),
        ("Australia/Sydney", date(2024, 7, 15), time(9), utc(2024, 7, 14, 23)),
        # Lord Howe: half-hour DST, 02:00 -> 02:30 in October, 02:00 -> 01:30 in April.
        ("Australia/Lord_Howe", date(2024, 10, 6), time(2, 0), utc(2024, 10, 5, 15, 30)),
        ("Australia/Lord_Howe", date(2024, 10, 6), time(2, 15), utc(2024, 10, 5, 15, 30)),
        ("Australia/Lord_Howe", date(2024, 10, 6), time(2, 30), utc(2024, 10, 5, 15, 30)),
        ("Australia/Lord_Howe", date(2024, 10, 6), time(1, 59), utc(2024, 10, 5, 15, 29)),
        ("Australia/Lord_Howe", date(2024, 4, 7), time(1, 45), utc(2024, 4, 6, 14, 45)),
        ("Australia/Lord_Howe", date(2024, 4, 7), time(2, 0), utc(2024, 4, 6, 15, 30)),
        ("UTC", date(2024, 3, 10), time(2, 30), utc(2024, 3, 10, 2, 30)),
    ],
)
def test_local_to_utc(tz: str, day: date, at: time, expected: object) -> None:
    assert local_to_utc(day, at, tz) == expected


def test_local_to_utc_returns_utc() -> None:
    instant = local_to_utc(date(2024, 7, 1), time(12), "Europe/Dublin")
    assert instant.utcoffset() == timedelta(0)


def test_local_midnight_and_local_date() -> None:
    midnight = local_midnight(date(2024, 7, 1), "Asia/Tokyo")
    assert midnight == utc(2024, 6, 30, 15)
    assert local_date(midnight, "Asia/Tokyo") == date(2024, 7, 1)
    assert local_date(midnight, "UTC") == date(2024, 6, 30)


def test_weekly_chicago_handover_lasts_169_hours_across_fall_back() -> None:
    weekly = version(
        tz="America/Chicago",
        days=frozenset({1}),
        start=time(0),
        end=time(0),
        length_days=7,
        anchor=date(2024, 1, 2),
    )
    (occ,) = base_occurrences(weekly, utc(2024, 11, 4, 12), utc(2024, 11, 4, 13))
    assert (occ.start, occ.end) == (utc(2024, 10, 29, 5), utc(2024, 11, 5, 6))
    assert occ.end - occ.start == timedelta(hours=169)


def test_weekly_chicago_handover_lasts_167_hours_across_spring_forward() -> None:
    weekly = version(
        tz="America/Chicago",
        days=frozenset({1}),
        start=time(0),
        end=time(0),
        length_days=7,
        anchor=date(2024, 1, 2),
    )
    (occ,) = base_occurrences(weekly, utc(2025, 3, 10, 12), utc(2025, 3, 10, 13))
    assert (occ.start, occ.end) == (utc(2025, 3, 4, 6), utc(2025, 3, 11, 5))
    assert occ.end - occ.start == timedelta(hours=167)


def test_nonexistent_start_moves_to_end_of_gap() -> None:
    night = version(tz="America/Chicago", days=frozenset({6}), start=time(2, 30), end=time(10))
    assert shift_bounds(night, date(2024, 3, 10)) == (utc(2024, 3, 10, 8), utc(2024, 3, 10, 15))
    # The week before, without DST change: 02:30 CST = 08:30Z.
    assert shift_bounds(night, date(2024, 3, 3))[0] == utc(2024, 3, 3, 8, 30)


def test_ambiguous_start_takes_first_occurrence() -> None:
    night = version(tz="America/Chicago", days=frozenset({6}), start=time(1, 30), end=time(9))
    start, end = shift_bounds(night, date(2024, 11, 3))
    assert start == utc(2024, 11, 3, 6, 30)  # 01:30 CDT
    assert end == utc(2024, 11, 3, 15)  # 09:00 CST
    assert end - start == timedelta(hours=8, minutes=30)


def test_ambiguous_end_takes_first_occurrence() -> None:
    evening = version(tz="America/Chicago", days=frozenset({5}), start=time(18), end=time(1, 30))
    start, end = shift_bounds(evening, date(2024, 11, 2))
    assert (start, end) == (utc(2024, 11, 2, 23), utc(2024, 11, 3, 6, 30))


def test_shift_entirely_inside_gap_is_dropped() -> None:
    ghost = version(tz="America/Chicago", days=frozenset({6}), start=time(2, 10), end=time(2, 50))
    assert base_occurrences(ghost, utc(2024, 3, 9), utc(2024, 3, 12)) == []
    assert len(base_occurrences(ghost, utc(2024, 3, 16), utc(2024, 3, 18))) == 1


def test_sydney_overnight_shift_across_october_spring_forward() -> None:
    overnight = version(tz="Australia/Sydney", days=frozenset({5}), start=time(22), end=time(6))
    (occ,) = base_occurrences(overnight, utc(2024, 10, 5), utc(2024, 10, 6))
    assert occ.local_date == date(2024, 10, 5)
    assert (occ.start, occ.end) == (utc(2024, 10, 5, 12), utc(2024, 10, 5, 19))
    assert occ.end - occ.start == timedelta(hours=7)


def test_sydney_overnight_shift_across_april_fall_back() -> None:
    overnight = version(tz="Australia/Sydney", days=frozenset({5}), start=time(22), end=time(6))
    (occ,) = base_occurrences(overnight, utc(2024, 4, 6), utc(2024, 4, 7))
    assert (occ.start, occ.end) == (utc(2024, 4, 6, 11), utc(2024, 4, 6, 20))
    assert occ.end - occ.start == timedelta(hours=9)


def test_lord_howe_overnight_shift_loses_half_an_hour() -> None:
    overnight = version(tz="Australia/Lord_Howe", days=frozenset({5}), start=time(22), end=time(6))
    (occ,) = base_occurrences(overnight, utc(2024, 10, 5), utc(2024, 10, 6))
    assert occ.end - occ.start == timedelta(hours=7, minutes=30)


def test_tokyo_shift_same_every_day() -> None:
    day = version(tz="Asia/Tokyo", days=frozenset({0}), start=time(9), end=time(18))
    occs = base_occurrences(day, utc(2024, 1, 1), utc(2024, 12, 31))
    assert len(occs) == 53
    assert {(o.start.hour, o.end.hour) for o in occs} == {(0, 9)}
