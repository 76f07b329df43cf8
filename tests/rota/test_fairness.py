"""Fairness: shifts, hours, weekend days and night hours on a hand-computed example."""

from __future__ import annotations

from datetime import date, time

import pytest

from app.rota.calculator import fairness
from app.rota.fairness import FairnessRow, night_hours

from .helpers import extra, people, rota, team, utc, version

A, B, C = 1, 2, 3


def test_fairness_hand_computed() -> None:
    # Range Mon 2024-03-04 00:00Z .. Mon 2024-03-11 00:00Z, team and A in UTC.
    # A: nights 22:00-06:00 Fri, Sat, Sun. The Sun 03-03 night is clipped to 6 h, Fri and
    #    Sat count 8 h, Sun 03-10 is clipped to 2 h: 4 shifts, 24 h, all of them night;
    #    weekend days: Sat 9 and Sun 10 (Sun 3 started before the range).
    # B: 09:00-17:00Z Mon-Fri (40 h) plus an extra Sat 10:00-14:00Z (4 h, weekend day).
    #    B lives in Tokyo (+9): 09:00-17:00Z is 18:00-02:00 there, 4 night hours a day;
    #    the extra is 19:00-23:00 there, 1 night hour: 21.
    # C: member of a rotation in effect with no occurrence in range: a row of zeros;
    #    a version only in effect from 2030 does not count.
    nights = version(
        rotation_id=1, members=(A,), days=frozenset({4, 5, 6}), start=time(22), end=time(6)
    )
    days = version(rotation_id=2, members=(B,))
    idle = version(rotation_id=3, members=(C,), effective_from=utc(2030, 1, 1))
    standby = version(
        rotation_id=4, members=(C,), effective_from=utc(2024, 3, 1), anchor=date(2030, 1, 7)
    )
    staff = people(A, C) | people(B, tz="Asia/Tokyo")
    r = rota(
        [nights, days, idle, standby],
        teams=[team()],
        specialists=staff,
        overrides=[extra(1, B, "t", utc(2024, 3, 9, 10), utc(2024, 3, 9, 14))],
    )
    rows = fairness(r, utc(2024, 3, 4), utc(2024, 3, 11), team="t")
    assert rows == [
        FairnessRow(A, shifts=4, hours=6 + 8 + 8 + 2, weekend_days=2, night_hours=6 + 8 + 8 + 2),
        FairnessRow(B, shifts=6, hours=44, weekend_days=1, night_hours=21),
        FairnessRow(C, shifts=0, hours=0, weekend_days=0, night_hours=0),
    ]  # fmt: skip


def test_fairness_without_team_filter_includes_every_team() -> None:
    r = rota([version(members=(A,)), version(rotation_id=2, team="u", members=(A,))])
    (row,) = fairness(r, utc(2024, 3, 4), utc(2024, 3, 5))
    # Both teams' shifts count, but they are the same eight hours: no hour counts twice.
    assert (row.shifts, row.hours) == (2, 8)
    (in_u,) = fairness(r, utc(2024, 3, 4), utc(2024, 3, 5), team="u")
    assert (in_u.shifts, in_u.hours) == (1, 8)


def test_night_hours_follow_dst() -> None:
    # The night of the Chicago fall-back is nine hours long.
    assert night_hours(utc(2024, 11, 2, 12), utc(2024, 11, 3, 18), "America/Chicago") == 9
    assert night_hours(utc(2024, 3, 4, 23), utc(2024, 3, 5, 1), "UTC") == 2
    assert night_hours(utc(2024, 3, 4, 7), utc(2024, 3, 4, 21), "UTC") == pytest.approx(0)
