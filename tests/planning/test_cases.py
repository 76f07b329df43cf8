"""The planner on hand-made cases: DST weeks, derived shifts, diagnosis of infeasible rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.planning.check import violations
from app.planning.grid import build_grid, derive_templates
from app.planning.problem import Member, PlanProblem, PlanSettings, ShiftTemplate, Unavailable
from app.planning.solve import solve
from app.rota.rules import CoverageRule

EVERY_DAY = frozenset(range(7))
NIGHT = ShiftTemplate("night", time(22), time(6))


def _team(n: int, langs: frozenset[str] = frozenset({"en"})) -> tuple[Member, ...]:
    return tuple(Member(id=i, languages=langs) for i in range(1, n + 1))


@pytest.mark.parametrize(
    ("tz", "monday", "change_day", "hours"),
    [
        ("America/Chicago", date(2026, 3, 2), date(2026, 3, 7), 7.0),  # spring forward
        ("America/Chicago", date(2026, 10, 26), date(2026, 10, 31), 9.0),  # fall back
        ("Australia/Lord_Howe", date(2026, 3, 30), date(2026, 4, 4), 8.5),  # back 30 min
        ("Australia/Lord_Howe", date(2026, 9, 28), date(2026, 10, 3), 7.5),  # forward 30 min
        ("Europe/Dublin", date(2026, 3, 23), date(2026, 3, 28), 7.0),  # IST begins
        ("Europe/Dublin", date(2026, 10, 19), date(2026, 10, 24), 9.0),  # IST ends
    ],
)
def test_night_shifts_keep_wall_clock_times_across_dst(
    tz: str, monday: date, change_day: date, hours: float
) -> None:
    problem = PlanProblem(
        team="nights",
        tz=tz,
        start=monday,
        weeks=1,
        members=_team(4),
        coverage=(CoverageRule(EVERY_DAY, time(22), time(6), 1),),
        templates=(NIGHT,),
        settings=PlanSettings(workers=1),
    )
    result = solve(problem)
    assert result.status == "optimal"
    assert violations(problem, result.assignments, result.lieu_days) == []
    nights = [a for a in result.assignments if a.day == change_day]
    assert nights  # the weekend rule puts people on it
    assert {(a.end - a.start).total_seconds() / 3600 for a in nights} == {hours}
    # The night still starts at 22:00 local time and every night is covered.
    assert len({a.day for a in result.assignments}) == 7


def test_a_nine_hour_fall_back_night_counts_nine_hours_against_the_weekly_cap() -> None:
    # One person, nights every day, cap 40 h: five 8-hour nights fit in a normal week, but
    # in the fall-back week one of them lasts 9 h, so covering five nights is impossible.
    def problem(monday: date) -> PlanProblem:
        return PlanProblem(
            team="nights",
            tz="America/Chicago",
            start=monday,
            weeks=1,
            members=_team(1),
            coverage=(CoverageRule(frozenset({1, 2, 3, 4, 5}), time(22), time(6), 1),),
            templates=(NIGHT,),
            settings=PlanSettings(workers=1, weekend_days_per_week=1, target_days_per_week=5),
        )

    assert solve(problem(date(2026, 10, 12))).solved
    result = solve(problem(date(2026, 10, 26)))
    assert result.status == "infeasible"
    assert [r.rule for r in result.relaxations] == ["max_hours"]
    assert "1 h over the 40 h weekly cap" in result.relaxations[0].message


def test_spring_forward_gap_start_moves_to_the_first_instant_after_it() -> None:
    template = ShiftTemplate("early", time(2, 30), time(10, 30))
    problem = PlanProblem(
        team="early",
        tz="America/Chicago",
        start=date(2026, 3, 2),
        weeks=1,
        members=_team(2),
        coverage=(CoverageRule(EVERY_DAY, time(3), time(10), 1),),
        templates=(template,),
        settings=PlanSettings(workers=1),
    )
    grid = build_grid(problem)
    sunday = next(i for i in grid.instances if i.day == date(2026, 3, 8))
    assert sunday.start == datetime(2026, 3, 8, 8, 0, tzinfo=UTC)  # 03:00 CDT
    assert sunday.minutes == 7 * 60 + 30
    result = solve(problem)
    assert result.solved
    assert violations(problem, result.assignments, result.lieu_days) == []


def test_templates_derived_from_opening_hours() -> None:
    rules = (
        CoverageRule(frozenset(range(5)), time(8), time(20), 3),
        CoverageRule(frozenset({5, 6}), time(10), time(16), 1),
        CoverageRule(frozenset(range(5)), time(0), time(0), 1, "en"),
    )
    weekdays = frozenset(range(5))
    assert {t.name: t.days for t in derive_templates(rules, 8)} == {
        "00:00-08:00": weekdays,  # the 24-hour rule in three 8-hour shifts
        "08:00-16:00": weekdays,  # shared by the 24-hour and the 08:00-20:00 rules
        "16:00-00:00": weekdays,
        "12:00-20:00": weekdays,  # 08:00-20:00 is two overlapping shifts
        "10:00-16:00": frozenset({5, 6}),  # short enough for one shift
    }
    # 15 hours: two 8-hour shifts, the later one on a half-hour mark ending at closing.
    late = (CoverageRule(frozenset({1}), time(7), time(22), 2),)
    assert [t.name for t in derive_templates(late, 8)] == ["07:00-15:00", "14:00-22:00"]


def test_one_more_person_needed_on_sundays() -> None:
    problem = PlanProblem(
        team="tokyo",
        tz="Asia/Tokyo",
        start=date(2026, 12, 7),
        weeks=2,
        members=_team(2),
        coverage=(CoverageRule(frozenset({6}), time(9), time(17), 3),),
        settings=PlanSettings(workers=1),
    )
    result = solve(problem)
    assert result.status == "infeasible"
    messages = [r.message for r in result.relaxations]
    assert messages == [
        "1 more person needed on Sundays 09:00-17:00 JST (rule 0, team tokyo): "
        "2026-12-13, 2026-12-20"
    ]
    # The best-effort plan staffs Sundays with the two people there are.
    assert len([a for a in result.assignments if a.day.weekday() == 6]) == 4


def test_weekend_rule_met_in_one_of_four_weeks() -> None:
    # One person, cap 8 h a week, an 8-hour Monday shift needed every week: a weekend day
    # on top breaks the cap. In week 1 Monday is leave, so that week the weekend is worked.
    monday = date(2026, 6, 1)
    problem = PlanProblem(
        team="solo",
        tz="Europe/Paris",
        start=monday,
        weeks=4,
        members=_team(1),
        coverage=(CoverageRule(frozenset({0}), time(9), time(17), 1),),
        templates=(ShiftTemplate("day", time(9), time(17)),),
        unavailable=(
            Unavailable(
                1, datetime(2026, 5, 31, 22, tzinfo=UTC), datetime(2026, 6, 1, 22, tzinfo=UTC)
            ),
        ),
        settings=PlanSettings(workers=1, max_hours_per_week=8),
    )
    result = solve(problem)
    assert result.status == "infeasible"
    by_rule = {r.rule: r for r in result.relaxations}
    assert set(by_rule) == {"coverage", "weekend"}
    assert by_rule["weekend"].message.startswith(
        "weekend rule met in 1 of 4 weeks for specialist 1"
    )
    assert by_rule["coverage"].day == monday
    assert "Monday 2026-06-01 09:00-17:00 CEST" in by_rule["coverage"].message


def test_days_off_in_lieu_fall_in_the_same_or_next_week() -> None:
    problem = PlanProblem(
        team="lieu",
        tz="Europe/London",
        start=date(2026, 6, 1),
        weeks=3,
        members=_team(3),
        coverage=(
            CoverageRule(frozenset(range(5)), time(9), time(17), 2),
            CoverageRule(frozenset({5, 6}), time(9), time(17), 1),
        ),
        settings=PlanSettings(workers=1),
    )
    result = solve(problem)
    assert result.solved
    assert violations(problem, result.assignments, result.lieu_days) == []
    weekend_days = [a for a in result.assignments if a.day.weekday() >= 5]
    last_week = problem.start + timedelta(weeks=2)
    assert len(result.lieu_days) >= len([a for a in weekend_days if a.day < last_week])
    worked = {(a.member, a.day) for a in result.assignments}
    assert all((d.member, d.day) not in worked for d in result.lieu_days)


def test_holidays_are_days_off_unless_holiday_cover_is_asked() -> None:
    christmas = date(2026, 12, 25)
    base = PlanProblem(
        team="dublin",
        tz="Europe/Dublin",
        start=date(2026, 12, 21),
        weeks=1,
        members=_team(4),
        coverage=(CoverageRule(EVERY_DAY, time(9), time(17), 1),),
        holidays=frozenset({christmas}),
        settings=PlanSettings(workers=1),
    )
    off = solve(base)
    assert off.solved and not [a for a in off.assignments if a.day == christmas]
    staffed = PlanProblem(**{**base.__dict__, "settings": PlanSettings(workers=1, holiday_staff=2)})
    on = solve(staffed)
    assert on.solved
    assert len([a for a in on.assignments if a.day == christmas]) >= 2
    assert violations(staffed, on.assignments, on.lieu_days) == []


def test_the_current_rota_is_kept_when_it_already_works() -> None:
    base = PlanProblem(
        team="keep",
        tz="UTC",
        start=date(2026, 6, 1),
        weeks=1,
        members=_team(3),
        coverage=(CoverageRule(EVERY_DAY, time(9), time(17), 1),),
        settings=PlanSettings(workers=1, target_days_per_week=0),
    )
    first = solve(base)
    assert first.solved
    current = {(a.member, a.day): (a.start, a.end) for a in first.assignments}
    again = solve(PlanProblem(**{**base.__dict__, "current": current}))
    assert {(a.member, a.day) for a in again.assignments} == set(current)


def test_the_last_nights_window_stops_at_the_end_of_the_period() -> None:
    # 20:00-08:00 every day is split into 20:00-04:00 and 00:00-08:00 shifts; Sunday's
    # window runs into the Monday after the period, which the next plan covers.
    problem = PlanProblem(
        team="nights",
        tz="America/New_York",
        start=date(2027, 3, 8),  # DST begins on Sunday 14 March
        weeks=1,
        members=_team(8),
        coverage=(CoverageRule(EVERY_DAY, time(20), time(8), 2),),
        settings=PlanSettings(workers=1),
    )
    result = solve(problem)
    assert result.solved
    assert violations(problem, result.assignments, result.lieu_days) == []
    # The last shift is Sunday's 20:00-04:00, ending Monday 04:00 EDT (08:00Z).
    assert max(a.end for a in result.assignments) == datetime(2027, 3, 15, 8, tzinfo=UTC)
