"""Days off in lieu: earning, fixed and most-staffed placement, moves, cancels, manual days."""

from __future__ import annotations

from datetime import date, time, timedelta

from app.rota.calculator import days_off, final_schedule
from app.rota.rules import LieuRule, ManualDayOff, Rota, RotationVersion
from app.rota.shifts import DayOff

from .helpers import cover, leave, people, rota, rule, team, utc, version

A, B, C = 1, 2, 3
WEEKDAYS = version(rotation_id=1, team="t", members=(A, B, C), anchor=date(2024, 7, 1))


def weekend(rule_: LieuRule | None = None, **fields: object) -> RotationVersion:
    base: dict[str, object] = {
        "rotation_id": 2,
        "team": "t",
        "members": (A, B, C),
        "days": frozenset({5, 6}),
        "start": time(9),
        "end": time(17),
        "anchor": date(2024, 8, 3),
        "assignment": "turns",
        "earns_lieu": True,
        "lieu_rule": rule_,
    }
    base.update(fields)
    return version(**base)


def weekday_dates(r: Rota, person: int, first: date, last: date) -> list[date]:
    shifts = final_schedule(
        r, utc(first.year, first.month, first.day), utc(last.year, last.month, last.day)
    )
    return [s.local_date for s in shifts if s.specialist_id == person and s.source.rotation_id == 1]


def test_fixed_weekday_placement_removes_that_days_shifts() -> None:
    r = rota([WEEKDAYS, weekend(LieuRule.fixed(1))])
    offs = days_off(r, utc(2024, 8, 5), utc(2024, 8, 10))
    assert offs == [
        DayOff(A, date(2024, 8, 6), "2:2024-08-03:1", "lieu", moved=False),
        DayOff(B, date(2024, 8, 6), "2:2024-08-04:2", "lieu", moved=False),
    ]
    shifts = final_schedule(r, utc(2024, 8, 6), utc(2024, 8, 7))
    assert [s.specialist_id for s in shifts] == [C]


def test_lieu_needs_no_earlier_range() -> None:
    r = rota([WEEKDAYS, weekend(LieuRule.fixed(1))])
    # Asking for Tuesday alone looks back at the weekend on its own.
    assert [
        s.specialist_id for s in final_schedule(r, utc(2024, 8, 6, 10), utc(2024, 8, 6, 11))
    ] == [C]


def test_two_earnings_of_one_person_get_different_days() -> None:
    solo = weekend(LieuRule.fixed(0), members=(A,))
    r = rota([WEEKDAYS, solo])
    offs = days_off(r, utc(2024, 8, 5), utc(2024, 8, 10), specialist=A)
    assert [(d.day, d.earning_key) for d in offs] == [
        (date(2024, 8, 5), "2:2024-08-03:1"),
        (date(2024, 8, 6), "2:2024-08-04:1"),
    ]


def test_most_staffed_picks_largest_surplus_and_decrements() -> None:
    coverage = (rule({0, 1, 2}, time(9), time(17), 3), rule({3, 4}, time(9), time(17), 1))
    r = rota([WEEKDAYS, weekend(LieuRule.most_staffed())], teams=[team(coverage=coverage)])
    offs = days_off(r, utc(2024, 8, 5), utc(2024, 8, 10))
    # Surplus Mon-Wed 3-3=0, Thu/Fri 3-1=2: A (Saturday, first) gets Thu, then Thu is 1.
    assert [(d.specialist_id, d.day) for d in offs] == [
        (A, date(2024, 8, 8)),
        (B, date(2024, 8, 9)),
    ]


def test_most_staffed_is_the_default_rule() -> None:
    coverage = (rule({0, 1, 2, 4}, time(9), time(17), 3),)
    r = rota([WEEKDAYS, weekend()], teams=[team(coverage=coverage)])
    offs = days_off(r, utc(2024, 8, 5), utc(2024, 8, 10))
    assert [(d.specialist_id, d.day) for d in offs] == [
        (A, date(2024, 8, 8)),
        (B, date(2024, 8, 8)),
    ]


def test_most_staffed_ties_go_to_earliest_day() -> None:
    r = rota([WEEKDAYS, weekend(members=(A,))])
    offs = days_off(r, utc(2024, 8, 5), utc(2024, 8, 10), specialist=A)
    # Surplus 3 every day: Monday first, which drops to 2, so Tuesday next.
    assert [d.day for d in offs] == [date(2024, 8, 5), date(2024, 8, 6)]


def test_most_staffed_prefers_days_with_a_shift() -> None:
    only_tuesday = version(rotation_id=1, team="t", members=(A,), days=frozenset({1}))
    regulars = version(rotation_id=3, team="t", members=(B, C))
    thursday_helpers = version(rotation_id=4, team="t", members=(4, 5), days=frozenset({3}))
    r = rota([only_tuesday, regulars, thursday_helpers, weekend(members=(A,), days=frozenset({5}))])
    offs = days_off(r, utc(2024, 8, 5), utc(2024, 8, 10), specialist=A)
    # Thursday has the largest surplus (4 vs 3 on Tuesday), but A only works Tuesday.
    assert [d.day for d in offs] == [date(2024, 8, 6)]


def test_most_staffed_falls_back_to_all_weekdays() -> None:
    regulars = version(rotation_id=3, team="t", members=(B, C))
    thursday_helpers = version(rotation_id=4, team="t", members=(4, 5), days=frozenset({3}))
    r = rota([regulars, thursday_helpers, weekend(members=(A,), days=frozenset({5}))])
    offs = days_off(r, utc(2024, 8, 5), utc(2024, 8, 10), specialist=A)
    assert [d.day for d in offs] == [date(2024, 8, 8)]


def test_partial_cover_earning_goes_to_who_works_most() -> None:
    overrides = [cover(1, A, B, utc(2024, 8, 3, 9), utc(2024, 8, 3, 14))]
    r = rota([WEEKDAYS, weekend(LieuRule.fixed(2))], overrides=overrides)
    offs = days_off(r, utc(2024, 8, 5), utc(2024, 8, 10))
    assert [(d.specialist_id, d.day, d.earning_key) for d in offs] == [
        (B, date(2024, 8, 7), "2:2024-08-03:1"),
        (B, date(2024, 8, 8), "2:2024-08-04:2"),
    ]


def test_tie_goes_to_original_member() -> None:
    overrides = [cover(1, A, B, utc(2024, 8, 3, 13), utc(2024, 8, 3, 17))]
    r = rota([WEEKDAYS, weekend(LieuRule.fixed(2))], overrides=overrides)
    offs = days_off(r, utc(2024, 8, 5), utc(2024, 8, 10), specialist=A)
    assert [d.earning_key for d in offs] == ["2:2024-08-03:1"]


def test_no_earning_when_leave_removes_the_shift() -> None:
    overrides = [leave(1, A, utc(2024, 8, 3), utc(2024, 8, 4))]
    r = rota([WEEKDAYS, weekend(LieuRule.fixed(2))], overrides=overrides)
    assert days_off(r, utc(2024, 8, 5), utc(2024, 8, 10), specialist=A) == []


def test_moved_and_cancelled_days() -> None:
    adjustments = {"2:2024-08-03:1": date(2024, 8, 8), "2:2024-08-04:2": None}
    r = rota([WEEKDAYS, weekend(LieuRule.fixed(1))], lieu_adjustments=adjustments)
    offs = days_off(r, utc(2024, 8, 5), utc(2024, 8, 10))
    assert offs == [DayOff(A, date(2024, 8, 8), "2:2024-08-03:1", "lieu", moved=True)]
    assert weekday_dates(r, A, date(2024, 8, 5), date(2024, 8, 10)) == [
        date(2024, 8, 5),
        date(2024, 8, 6),
        date(2024, 8, 7),
        date(2024, 8, 9),
    ]
    assert len(weekday_dates(r, B, date(2024, 8, 5), date(2024, 8, 10))) == 5


def test_day_moved_far_away_is_found() -> None:
    adjustments = {"2:2024-08-03:1": date(2025, 1, 7)}
    r = rota([WEEKDAYS, weekend(LieuRule.fixed(1))], lieu_adjustments=adjustments)
    offs = days_off(r, utc(2025, 1, 6), utc(2025, 1, 8), specialist=A)
    moved = [d for d in offs if d.moved]
    assert moved == [DayOff(A, date(2025, 1, 7), "2:2024-08-03:1", "lieu", moved=True)]
    assert A not in {s.specialist_id for s in final_schedule(r, utc(2025, 1, 7), utc(2025, 1, 8))}


def test_adjustment_for_unknown_earning_is_ignored() -> None:
    adjustments = {"2:2024-08-05:1": date(2024, 8, 7), "garbage": date(2024, 8, 7)}
    r = rota([WEEKDAYS, weekend(LieuRule.fixed(1))], lieu_adjustments=adjustments)
    assert all(d.day != date(2024, 8, 7) for d in days_off(r, utc(2024, 8, 5), utc(2024, 8, 10)))


def test_manual_day_off_removes_shifts() -> None:
    r = rota([WEEKDAYS], manual_days_off=[ManualDayOff(1, C, date(2024, 8, 7))])
    assert days_off(r, utc(2024, 8, 7), utc(2024, 8, 8)) == [
        DayOff(C, date(2024, 8, 7), None, "manual", moved=False)
    ]
    assert [s.specialist_id for s in final_schedule(r, utc(2024, 8, 7), utc(2024, 8, 8))] == [A, B]


def test_day_off_removes_other_teams_shifts_in_own_zone() -> None:
    # A lives in Tokyo: a 20:00Z Monday shift starts on Tuesday there.
    late = version(rotation_id=5, team="u", members=(A,), start=time(20), end=time(22))
    staff = people(A, tz="Asia/Tokyo") | people(B, C)
    r = rota([WEEKDAYS, late, weekend(LieuRule.fixed(1))], specialists=staff)
    shifts = final_schedule(r, utc(2024, 8, 5), utc(2024, 8, 7), specialist=A)
    assert [(s.team, s.start) for s in shifts] == [
        ("t", utc(2024, 8, 5, 9)),
        ("u", utc(2024, 8, 6, 20)),  # Wednesday in Tokyo
    ]
    # The filtered query for team "u" still honours a day earned in team "t".
    assert final_schedule(r, utc(2024, 8, 5, 19), utc(2024, 8, 5, 23), team="u") == []


def test_sixth_earning_of_a_week_stays_unplaced() -> None:
    daily = version(
        rotation_id=2,
        members=(A,),
        days=frozenset(range(7)),
        earns_lieu=True,
        lieu_rule=LieuRule.fixed(0),
        anchor=date(2024, 8, 5),
    )
    r = rota([daily])
    offs = days_off(r, utc(2024, 8, 12), utc(2024, 8, 19), specialist=A)
    assert [d.day for d in offs] == [date(2024, 8, 12) + timedelta(days=i) for i in range(5)]
    assert len({d.earning_key for d in offs}) == 5


def test_days_off_range_uses_specialist_zone() -> None:
    r = rota(
        [WEEKDAYS],
        specialists=people(A, B, tz="Asia/Tokyo") | people(C),
        manual_days_off=[ManualDayOff(1, A, date(2024, 8, 7))],
    )
    # Tokyo's Aug 7 is 2024-08-06T15:00Z .. 2024-08-07T15:00Z.
    assert days_off(r, utc(2024, 8, 6, 14), utc(2024, 8, 6, 15)) == []
    assert len(days_off(r, utc(2024, 8, 6, 15), utc(2024, 8, 6, 16))) == 1
    assert days_off(r, utc(2024, 8, 7, 15), utc(2024, 8, 8)) == []


def test_a_fixed_day_on_a_public_holiday_moves_to_the_next_weekday() -> None:
    # Tuesday 2024-08-06 is a holiday of team t: the day off would be wasted there.
    r = rota(
        [WEEKDAYS, weekend(LieuRule.fixed(1))],
        teams=[team(holidays=frozenset({date(2024, 8, 6)}))],
    )
    offs = days_off(r, utc(2024, 8, 5), utc(2024, 8, 10))
    assert [(d.specialist_id, d.day) for d in offs] == [
        (A, date(2024, 8, 7)),
        (B, date(2024, 8, 7)),
    ]


def test_most_staffed_never_picks_a_public_holiday() -> None:
    # Equal surplus every day would pick Monday first; Monday is a holiday.
    r = rota(
        [WEEKDAYS, weekend(members=(A,))],
        teams=[team(holidays=frozenset({date(2024, 8, 5)}))],
    )
    offs = days_off(r, utc(2024, 8, 5), utc(2024, 8, 10), specialist=A)
    assert [d.day for d in offs] == [date(2024, 8, 6), date(2024, 8, 7)]


def test_a_week_of_holidays_leaves_the_earning_unplaced_and_outstanding() -> None:
    week = frozenset(date(2024, 8, 5) + timedelta(days=i) for i in range(5))
    r = rota([WEEKDAYS, weekend(LieuRule.fixed(0), members=(A,))], teams=[team(holidays=week)])
    assert days_off(r, utc(2024, 8, 5), utc(2024, 8, 10), specialist=A) == []


def test_most_staffed_counts_a_persons_working_days_in_their_own_zone() -> None:
    # Team t works in UTC; person 1 lives in Los Angeles. Their shifts start Tue-Sat at
    # 02:00 UTC, which is Mon-Fri at 18:00 their time; person 2 works Mondays (UTC). Every
    # weekday of the team then has one person: a tie, so the earliest day person 1 works
    # wins - Monday in their own zone (it would be Tuesday counted in the team's zone).
    evenings = version(
        rotation_id=1, members=(1,), days=frozenset({1, 2, 3, 4, 5}), start=time(2), end=time(10)
    )
    mondays = version(rotation_id=2, members=(2,), days=frozenset({0}))
    sundays = version(
        rotation_id=3,
        members=(1,),
        days=frozenset({6}),
        start=time(12),
        end=time(14),
        earns_lieu=True,
        lieu_rule=LieuRule.most_staffed(),
    )
    r = rota(
        [evenings, mondays, sundays],
        teams=[team("t", "UTC")],
        specialists={**people(1, tz="America/Los_Angeles"), **people(2)},
    )
    week = (utc(2024, 6, 10), utc(2024, 6, 17))

    offs = [d for d in days_off(r, *week) if d.specialist_id == 1 and d.source == "lieu"]

    assert [(d.day, d.earning_key) for d in offs] == [(date(2024, 6, 10), "3:2024-06-09:1")]
    # The day off is Monday in Los Angeles: the shift starting then (Tue 02:00 UTC) is gone.
    starts = [s.start for s in final_schedule(r, *week) if s.specialist_id == 1]
    assert utc(2024, 6, 11, 2) not in starts
    assert utc(2024, 6, 12, 2) in starts
