"""Occurrences: days, anchors, every N weeks, indexes, turns, holidays, versions."""

from __future__ import annotations

import time as clock
from datetime import date, time, timedelta

import pytest

from app.rota.calculator import base_occurrences, final_schedule
from app.rota.occurrences import is_occurrence_date, occurrence_index
from app.rota.rules import RotationVersion

from .helpers import rota, team, utc, version, who

A, B, C = 1, 2, 3


def weekend_turns(**fields: object) -> RotationVersion:
    base: dict[str, object] = {
        "members": (A, B, C),
        "days": frozenset({5, 6}),
        "start": time(0),
        "end": time(12),
        "anchor": date(2024, 8, 3),
        "assignment": "turns",
    }
    base.update(fields)
    return version(**base)


def test_weekend_turns_one_per_occurrence() -> None:
    shifts = final_schedule(rota([weekend_turns()]), utc(2024, 8, 1), utc(2024, 8, 18))
    assert who(shifts) == [
        (date(2024, 8, 3), A),
        (date(2024, 8, 4), B),
        (date(2024, 8, 10), C),
        (date(2024, 8, 11), A),
        (date(2024, 8, 17), B),
    ]
    assert all(s.start.weekday() >= 5 for s in shifts)
    assert [s.source.occurrence for s in shifts] == [0, 1, 2, 3, 4]
    assert shifts[0].start == utc(2024, 8, 3) and shifts[0].end == utc(2024, 8, 3, 12)


def test_turns_with_two_per_occurrence_and_offset() -> None:
    v = weekend_turns(per_occurrence=2, turn_offset=1)
    occs = base_occurrences(v, utc(2024, 8, 3), utc(2024, 8, 12))
    assert [o.members for o in occs] == [(B, C), (A, B), (C, A), (B, C)]


def test_turns_more_per_occurrence_than_members_lists_each_once() -> None:
    v = weekend_turns(members=(A, B), per_occurrence=3)
    (occ,) = base_occurrences(v, utc(2024, 8, 3), utc(2024, 8, 3, 1))
    assert occ.members == (A, B)


def test_all_assignment_gives_every_member() -> None:
    v = version(members=(A, B, C))
    occs = base_occurrences(v, utc(2024, 1, 1), utc(2024, 1, 6))
    assert [o.local_date.day for o in occs] == [1, 2, 3, 4, 5]
    assert all(o.members == (A, B, C) for o in occs)


def test_nothing_before_anchor() -> None:
    v = weekend_turns()
    assert base_occurrences(v, utc(2024, 7, 1), utc(2024, 8, 3)) == []


def test_every_two_weeks_counts_from_anchor_week() -> None:
    v = version(days=frozenset({0, 3}), every_weeks=2, anchor=date(2024, 1, 4))  # a Thursday
    occs = base_occurrences(v, utc(2024, 1, 1), utc(2024, 2, 5))
    # Week of Jan 1 is week 0 (but Mon Jan 1 is before the anchor), Jan 8 week 1 is off...
    assert [o.local_date for o in occs] == [
        date(2024, 1, 4),
        date(2024, 1, 15),
        date(2024, 1, 18),
        date(2024, 1, 29),
        date(2024, 2, 1),
    ]
    assert [o.index for o in occs] == [0, 1, 2, 3, 4]


def brute_index(v: RotationVersion, day: date) -> int:
    count, cursor = 0, v.anchor
    while cursor < day:
        count += is_occurrence_date(v, cursor)
        cursor += timedelta(days=1)
    return count


@pytest.mark.parametrize("every", [1, 2, 3])
@pytest.mark.parametrize("days", [{0}, {5, 6}, {1, 3, 4}, set(range(7))])
@pytest.mark.parametrize("anchor", [date(2024, 1, 1), date(2024, 1, 5), date(2024, 1, 7)])
def test_occurrence_index_matches_counting(every: int, days: set[int], anchor: date) -> None:
    v = version(days=frozenset(days), every_weeks=every, anchor=anchor)
    for offset in range(0, 60):
        day = anchor + timedelta(days=offset)
        assert occurrence_index(v, day) == brute_index(v, day), day


def test_far_future_query_is_fast() -> None:
    v = weekend_turns(anchor=date(2020, 1, 4))
    began = clock.perf_counter()
    occs = base_occurrences(v, utc(2034, 6, 3), utc(2034, 6, 5))
    assert clock.perf_counter() - began < 0.05
    assert [o.local_date for o in occs] == [date(2034, 6, 3), date(2034, 6, 4)]
    assert occs[0].index == brute_index(v, date(2034, 6, 3))


def test_occurrence_index_is_arithmetic() -> None:
    v = version(days=frozenset({5, 6}), every_weeks=2, anchor=date(2024, 1, 6))
    began = clock.perf_counter()
    # Counting day by day would walk 2.9 million dates.
    index = occurrence_index(v, date(9999, 12, 25))
    assert clock.perf_counter() - began < 0.01
    weeks = (date(9999, 12, 20) - date(2024, 1, 1)).days // 7  # Monday-based week index
    assert index == ((weeks + 1) // 2) * 2


def test_multi_day_shift_returned_when_range_starts_inside_it() -> None:
    on_call = version(days=frozenset({1}), start=time(0), end=time(0), length_days=7)
    (occ,) = base_occurrences(on_call, utc(2024, 1, 12), utc(2024, 1, 13))
    assert (occ.start, occ.end) == (utc(2024, 1, 9), utc(2024, 1, 16))


def test_overnight_shift_belongs_to_start_day() -> None:
    night = version(days=frozenset({4}), start=time(22), end=time(6))
    (occ,) = base_occurrences(night, utc(2024, 1, 6, 1), utc(2024, 1, 6, 2))
    assert occ.local_date == date(2024, 1, 5)
    assert (occ.start, occ.end) == (utc(2024, 1, 5, 22), utc(2024, 1, 6, 6))


def test_equal_start_and_end_is_a_full_day() -> None:
    day = version(days=frozenset({0}), start=time(8), end=time(8))
    (occ,) = base_occurrences(day, utc(2024, 1, 1), utc(2024, 1, 2))
    assert occ.end - occ.start == timedelta(hours=24)


def test_holidays_skip_all_rotations_but_not_turns() -> None:
    new_year = frozenset({date(2024, 1, 1)})
    weekday = version(members=(A,), anchor=date(2024, 1, 1))
    turns = version(rotation_id=2, members=(B, C), assignment="turns", anchor=date(2024, 1, 1))
    holiday_runner = version(rotation_id=3, members=(A,), run_on_holidays=True)
    r = rota([weekday, turns, holiday_runner], teams=[team(holidays=new_year)])
    shifts = final_schedule(r, utc(2024, 1, 1), utc(2024, 1, 3))
    # Ordered by start, then team, then specialist.
    assert [(s.local_date.day, s.source.rotation_id, s.specialist_id) for s in shifts] == [
        (1, 3, A),
        (1, 2, B),
        (2, 1, A),
        (2, 3, A),
        (2, 2, C),
    ]


def test_holidays_do_not_shift_turn_indexes_of_all_rotation() -> None:
    holiday = frozenset({date(2024, 1, 2)})
    v = version(members=(A, B))
    occs = base_occurrences(v, utc(2024, 1, 1), utc(2024, 1, 4), holiday)
    assert [(o.local_date.day, o.index) for o in occs] == [(1, 0), (3, 2)]


def test_edit_at_instant_keeps_earlier_occurrences() -> None:
    edit_at = utc(2024, 8, 12)
    old = weekend_turns(effective_until=edit_at)
    new = weekend_turns(version=2, members=(C, B, A), effective_from=edit_at, start=time(6))
    r = rota([old, new])
    before = final_schedule(rota([weekend_turns()]), utc(2024, 8, 1), edit_at)
    shifts = final_schedule(r, utc(2024, 8, 1), utc(2024, 8, 26))
    assert [s for s in shifts if s.start < edit_at] == before
    later = [s for s in shifts if s.start >= edit_at]
    # Indexes continue (4, 5, ...) from the anchor; the new member order applies.
    assert [(s.source.version, s.source.occurrence, s.specialist_id) for s in later] == [
        (2, 4, B),
        (2, 5, A),
        (2, 6, C),
        (2, 7, B),
    ]
    assert later[0].start == utc(2024, 8, 17, 6)


def test_version_edit_mid_day_keeps_started_shift() -> None:
    edit_at = utc(2024, 1, 3, 12)
    morning = version(members=(A,), start=time(9), end=time(17), effective_until=edit_at)
    evening = version(version=2, members=(A,), start=time(13), end=time(21), effective_from=edit_at)
    shifts = final_schedule(rota([morning, evening]), utc(2024, 1, 3), utc(2024, 1, 4, 23))
    assert [(s.start, s.source.version) for s in shifts] == [
        (utc(2024, 1, 3, 9), 1),
        (utc(2024, 1, 3, 13), 2),
        (utc(2024, 1, 4, 13), 2),
    ]
    assert len({s.key for s in shifts}) == 3


def test_effective_window_uses_start_instant() -> None:
    v = version(effective_from=utc(2024, 1, 2, 9), effective_until=utc(2024, 1, 4, 9))
    occs = base_occurrences(v, utc(2024, 1, 1), utc(2024, 1, 6))
    assert [o.local_date.day for o in occs] == [2, 3]


def test_base_occurrences_rejects_naive_datetimes() -> None:
    from datetime import datetime

    with pytest.raises(ValueError, match="timezone-aware"):
        base_occurrences(version(), datetime(2024, 1, 1), utc(2024, 1, 2))


def test_rotation_version_validates() -> None:
    with pytest.raises(ValueError):
        version(days=frozenset({7}))
    with pytest.raises(ValueError):
        version(length_days=0)
    with pytest.raises(ValueError):
        version(effective_from=utc(2024, 1, 2), effective_until=utc(2024, 1, 1))
