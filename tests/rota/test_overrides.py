"""Overrides: covers (whole, partial, team-scoped), swaps, extras, leave, inactive people."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time

import pytest

from app.rota.calculator import final_schedule, on_shift_at
from app.rota.rules import Override

from .helpers import cover, extra, leave, people, rota, spans, utc, version

A, B, C = 1, 2, 3
DAY = version(members=(A,), days=frozenset(range(7)))  # 09-17 UTC every day


def test_whole_cover_hands_shift_over() -> None:
    r = rota([DAY], overrides=[cover(10, A, B, utc(2024, 3, 4), utc(2024, 3, 5))])
    shifts = final_schedule(r, utc(2024, 3, 3), utc(2024, 3, 6))
    assert spans(shifts) == [
        (A, utc(2024, 3, 3, 9), utc(2024, 3, 3, 17), "rotation"),
        (B, utc(2024, 3, 4, 9), utc(2024, 3, 4, 17), "cover"),
        (A, utc(2024, 3, 5, 9), utc(2024, 3, 5, 17), "rotation"),
    ]
    covered = shifts[1]
    assert covered.source.covering_for == A
    assert covered.source.override_id == 10
    assert covered.source.rotation_id == 1
    assert covered.local_date == date(2024, 3, 4)


def test_partial_cover_splits_shift() -> None:
    r = rota([DAY], overrides=[cover(10, A, B, utc(2024, 3, 4, 11), utc(2024, 3, 4, 13))])
    shifts = final_schedule(r, utc(2024, 3, 4), utc(2024, 3, 5))
    assert spans(shifts) == [
        (A, utc(2024, 3, 4, 9), utc(2024, 3, 4, 11), "rotation"),
        (B, utc(2024, 3, 4, 11), utc(2024, 3, 4, 13), "cover"),
        (A, utc(2024, 3, 4, 13), utc(2024, 3, 4, 17), "rotation"),
    ]
    assert len({s.key for s in shifts}) == 3
    assert {s.local_date for s in shifts} == {date(2024, 3, 4)}


def test_swap_is_two_covers() -> None:
    early = version(rotation_id=1, members=(A,), start=time(6), end=time(14))
    late = version(rotation_id=2, members=(B,), start=time(14), end=time(22))
    day = (utc(2024, 3, 4), utc(2024, 3, 5))
    r = rota([early, late], overrides=[cover(1, A, B, *day), cover(2, B, A, *day)])
    shifts = final_schedule(r, *day)
    assert spans(shifts) == [
        (B, utc(2024, 3, 4, 6), utc(2024, 3, 4, 14), "cover"),
        (A, utc(2024, 3, 4, 14), utc(2024, 3, 4, 22), "cover"),
    ]


def test_leave_cuts_a_cover_shift() -> None:
    overrides = [
        cover(1, A, B, utc(2024, 3, 4), utc(2024, 3, 5)),
        leave(2, B, utc(2024, 3, 4, 12), utc(2024, 3, 4, 14)),
    ]
    shifts = final_schedule(rota([DAY], overrides=overrides), utc(2024, 3, 4), utc(2024, 3, 5))
    assert spans(shifts) == [
        (B, utc(2024, 3, 4, 9), utc(2024, 3, 4, 12), "cover"),
        (B, utc(2024, 3, 4, 14), utc(2024, 3, 4, 17), "cover"),
    ]


def test_cover_for_someone_on_leave_still_works() -> None:
    overrides = [
        leave(1, A, utc(2024, 3, 4), utc(2024, 3, 6)),
        cover(2, A, B, utc(2024, 3, 4), utc(2024, 3, 5)),
    ]
    shifts = final_schedule(rota([DAY], overrides=overrides), utc(2024, 3, 4), utc(2024, 3, 7))
    assert [(s.specialist_id, s.start.day) for s in shifts] == [(B, 4), (A, 6)]


def test_leave_removes_whole_shifts_and_extras() -> None:
    overrides = [
        extra(1, A, "t", utc(2024, 3, 4, 18), utc(2024, 3, 4, 20)),
        leave(2, A, utc(2024, 3, 4), utc(2024, 3, 5)),
    ]
    r = rota([DAY], overrides=overrides)
    assert final_schedule(r, utc(2024, 3, 4), utc(2024, 3, 5)) == []


def test_extra_adds_a_shift() -> None:
    r = rota([DAY], overrides=[extra(7, B, "t", utc(2024, 3, 4, 17), utc(2024, 3, 4, 21))])
    shifts = final_schedule(r, utc(2024, 3, 4), utc(2024, 3, 5))
    assert spans(shifts) == [
        (A, utc(2024, 3, 4, 9), utc(2024, 3, 4, 17), "rotation"),
        (B, utc(2024, 3, 4, 17), utc(2024, 3, 4, 21), "extra"),
    ]
    assert shifts[1].source.override_id == 7 and shifts[1].team == "t"
    assert [s.specialist_id for s in on_shift_at(r, utc(2024, 3, 4, 17))] == [B]


def test_cover_limited_to_one_team() -> None:
    other = version(rotation_id=2, team="u", members=(A,), start=time(18), end=time(20))
    r = rota([DAY, other], overrides=[cover(1, A, B, utc(2024, 3, 4), utc(2024, 3, 5), "u")])
    shifts = final_schedule(r, utc(2024, 3, 4), utc(2024, 3, 5))
    assert [(s.team, s.specialist_id) for s in shifts] == [("t", A), ("u", B)]


def test_later_cover_wins_where_covers_overlap() -> None:
    overrides = [
        cover(1, A, B, utc(2024, 3, 4, 9), utc(2024, 3, 4, 15)),
        cover(2, A, C, utc(2024, 3, 4, 12), utc(2024, 3, 4, 17)),
    ]
    shifts = final_schedule(rota([DAY], overrides=overrides), utc(2024, 3, 4), utc(2024, 3, 5))
    assert spans(shifts) == [
        (B, utc(2024, 3, 4, 9), utc(2024, 3, 4, 12), "cover"),
        (C, utc(2024, 3, 4, 12), utc(2024, 3, 4, 17), "cover"),
    ]


def test_covers_do_not_chain() -> None:
    # B covers A, then C covers B: C takes B's own shifts, not the ones B covers for A.
    own = version(rotation_id=2, members=(B,), start=time(18), end=time(20))
    overrides = [
        cover(1, A, B, utc(2024, 3, 4), utc(2024, 3, 5)),
        cover(2, B, C, utc(2024, 3, 4), utc(2024, 3, 5)),
    ]
    r = rota([DAY, own], overrides=overrides)
    shifts = final_schedule(r, utc(2024, 3, 4), utc(2024, 3, 5))
    assert [(s.specialist_id, s.source.covering_for) for s in shifts] == [(B, A), (C, B)]


def test_inactive_specialists_get_no_shifts() -> None:
    team_people = people(A, B) | {A: replace(people(A)[A], active=False)}
    r = rota([version(members=(A, B))], specialists=team_people)
    shifts = final_schedule(r, utc(2024, 3, 4), utc(2024, 3, 5))
    assert [s.specialist_id for s in shifts] == [B]


def test_cover_of_inactive_member_goes_to_substitute() -> None:
    team_people = people(A, B) | {A: replace(people(A)[A], active=False)}
    overrides = [cover(1, A, B, utc(2024, 3, 4), utc(2024, 3, 5))]
    r = rota([DAY], specialists=team_people, overrides=overrides)
    shifts = final_schedule(r, utc(2024, 3, 3), utc(2024, 3, 6))
    assert [(s.specialist_id, s.start.day) for s in shifts] == [(B, 4)]


def test_keys_stable_under_unrelated_changes() -> None:
    base = rota([DAY])
    busier = rota(
        [DAY, version(rotation_id=9, members=(C,))],
        overrides=[extra(5, B, "t", utc(2024, 3, 4), utc(2024, 3, 4, 2))],
    )
    window = (utc(2024, 3, 1), utc(2024, 3, 8))
    keys = {s.key for s in final_schedule(base, *window)}
    assert keys <= {s.key for s in final_schedule(busier, *window)}
    bumped = rota([replace(DAY, members=(A, B))])
    assert keys <= {s.key for s in final_schedule(bumped, *window)}


def test_filters_keep_answer() -> None:
    other = version(rotation_id=2, team="u", members=(B,))
    r = rota([DAY, other], overrides=[cover(1, A, B, utc(2024, 3, 4), utc(2024, 3, 5))])
    window = (utc(2024, 3, 3), utc(2024, 3, 6))
    everything = final_schedule(r, *window)
    assert final_schedule(r, *window, team="t") == [s for s in everything if s.team == "t"]
    assert final_schedule(r, *window, specialist=B) == [
        s for s in everything if s.specialist_id == B
    ]


def test_override_validation() -> None:
    with pytest.raises(ValueError):
        Override(1, "cover", A, None, None, utc(2024, 1, 1), utc(2024, 1, 2))
    with pytest.raises(ValueError):
        Override(1, "extra", A, None, None, utc(2024, 1, 1), utc(2024, 1, 2))
    with pytest.raises(ValueError):
        Override(1, "leave", A, None, None, utc(2024, 1, 2), utc(2024, 1, 1))
