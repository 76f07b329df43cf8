"""The planner against a brute-force search on tiny teams: same feasibility, same optimum."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.planning.grid import build_grid
from app.planning.problem import Member, PlanProblem, PlanSettings, PlanWeights, ShiftTemplate
from app.planning.solve import solve
from app.rota.rules import CoverageRule

from .brute import brute_force
from .factory import LANGUAGES, MONDAYS, ZONES


@st.composite
def tiny_problems(draw: st.DrawFn) -> PlanProblem:
    tz = draw(st.sampled_from(ZONES))
    start = draw(st.sampled_from(MONDAYS))
    two_templates = draw(st.booleans())
    count = 2 if two_templates else draw(st.integers(2, 3))
    templates = [ShiftTemplate("day", time(9), time(17))]
    if two_templates:
        templates.append(ShiftTemplate("night", time(21), time(5), frozenset({4, 5, 6})))
    rules = [CoverageRule(frozenset({5, 6}), time(10), time(16), 1)]
    if draw(st.booleans()):
        days = draw(st.frozensets(st.integers(0, 4), min_size=1))
        rules.append(CoverageRule(days, time(9), time(17), 1, draw(st.sampled_from(LANGUAGES))))
    people = tuple(
        Member(
            id=pid,
            languages=draw(st.frozensets(st.sampled_from(LANGUAGES), min_size=1, max_size=2)),
            unavailable_weekdays=draw(st.frozensets(st.integers(0, 6), max_size=2)),
            prefers_off=draw(st.frozensets(st.integers(0, 6), max_size=2)),
            avoids_templates=draw(st.frozensets(st.sampled_from(["day", "night"]), max_size=1)),
            prefers_weekend_day=draw(st.sampled_from([None, 5, 6])),
            history_saturdays=draw(st.integers(0, 2)),
            history_sundays=draw(st.integers(0, 2)),
            history_nights=draw(st.integers(0, 2)),
            streak_before=draw(st.integers(0, 4)),
        )
        for pid in range(1, count + 1)
    )
    holidays = draw(
        st.frozensets(st.sampled_from([start + timedelta(days=k) for k in range(7)]), max_size=1)
    )
    problem = PlanProblem(
        team="tiny",
        tz=tz,
        start=start,
        weeks=1,
        members=people,
        coverage=tuple(rules),
        holidays=holidays,
        templates=tuple(templates),
        settings=PlanSettings(
            weekend_days_per_week=draw(st.integers(0, 2)),
            max_consecutive_days=draw(st.integers(2, 5)),
            max_hours_per_week=draw(st.sampled_from([16, 24])) if two_templates else 32,
            min_rest_hours=draw(st.sampled_from([0, 11, 14])),
            target_days_per_week=draw(st.integers(0, 5)),
            holiday_staff=draw(st.integers(0, 1)),
            time_limit_s=30,
            workers=1,
        ),
        weights=PlanWeights(
            weekend_spread=draw(st.integers(0, 5)),
            night_spread=draw(st.integers(0, 5)),
            holiday_spread=draw(st.integers(0, 5)),
            preference=draw(st.integers(0, 3)),
            change=draw(st.integers(0, 2)),
            target_days=draw(st.integers(0, 3)),
        ),
    )
    # Some current shifts, to price the changes.
    grid = build_grid(problem)
    current = {}
    for inst in grid.instances:
        for member in people:
            if draw(st.integers(0, 3)) == 0 and (member.id, inst.day) not in current:
                current[member.id, inst.day] = (inst.start, inst.end)
    return PlanProblem(**{**problem.__dict__, "current": current})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems())
def test_same_feasibility_and_optimum_as_brute_force(problem: PlanProblem) -> None:
    expected = brute_force(problem)
    result = solve(problem)
    event("feasible" if expected is not None else "infeasible")
    if expected is None:
        assert result.status == "infeasible"
    else:
        assert result.status == "optimal"
        # CP-SAT reports the objective as a float (0.9999999999999991 for 1).
        assert result.objective == pytest.approx(expected, abs=1e-6)


def test_brute_force_reference_finds_a_known_optimum() -> None:
    # Two people who should work two days a week, one needed on each weekend day: both
    # working both weekend days meets every goal (no spread, two days each); any other
    # plan costs something, e.g. one Saturday each and one Sunday is a Sunday spread of 1.
    start = MONDAYS[-1]
    problem = PlanProblem(
        team="tiny",
        tz="UTC",
        start=start,
        weeks=1,
        members=(Member(1), Member(2)),
        coverage=(CoverageRule(frozenset({5, 6}), time(10), time(16), 1),),
        templates=(ShiftTemplate("day", time(9), time(17)),),
        settings=PlanSettings(target_days_per_week=2, workers=1),
        weights=PlanWeights(change=0),
    )
    assert brute_force(problem) == 0
    result = solve(problem)
    assert result.objective == 0
    assert {(a.member, a.day.weekday()) for a in result.assignments} == {
        (1, 5),
        (1, 6),
        (2, 5),
        (2, 6),
    }
